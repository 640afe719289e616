package dev.arbor.ops;

import static dev.arbor.ops.SearchStepTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.onnx.TensorData;
import dev.arbor.ops.RetrievedAttention.AttentionResult;
import dev.arbor.ops.RetrievedAttention.Summaries;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AttentionOpsTest {
    private static final int HEADS = 3;
    private static final int DIM = 8;
    private static final int VALUE_DIM = 6;
    private static final float SCALE = (float) (1 / Math.sqrt(DIM));
    private static RetrievedAttention retrieved;
    private static DenseAttention dense;

    @BeforeAll
    static void open() throws Exception {
        SessionFactory sessions = new SessionFactory(SessionSettings.builder().intraOpThreads(1).build());
        retrieved = RetrievedAttention.open(sessions);
        dense = DenseAttention.open(sessions);
    }

    @AfterAll
    static void close() throws Exception {
        retrieved.close();
        dense.close();
    }

    private static boolean[] allValid(int count) {
        boolean[] mask = new boolean[count];
        Arrays.fill(mask, true);
        return mask;
    }

    @Test
    void denseAttentionEqualsTheJavaReference() throws Exception {
        Random random = new Random(21);
        int n = 200;
        float[] q = TestData.gaussian(random, HEADS * DIM);
        float[] keys = TestData.gaussian(random, HEADS * n * DIM);
        float[] values = TestData.gaussian(random, HEADS * n * VALUE_DIM);
        float[] output = dense.run(TensorData.floats("q", q, HEADS, DIM),
                TensorData.floats("k", TestData.direct(keys), HEADS, n, DIM),
                TensorData.floats("v", TestData.direct(values), HEADS, n, VALUE_DIM), SCALE);
        TestData.assertClose(ReferenceOps.denseAttention(q, keys, values, HEADS, n, DIM, VALUE_DIM, SCALE), output,
                1e-5, "dense output");
    }

    @Test
    void segmentsMergeIntoAttentionOverTheirConcatenation() throws Exception {
        Random random = new Random(26);
        int[] sizes = {50, 1, 77};
        int n = Arrays.stream(sizes).sum();
        float[] q = TestData.gaussian(random, HEADS * DIM);
        float[] keys = TestData.gaussian(random, HEADS * n * DIM);
        float[] values = TestData.gaussian(random, HEADS * n * VALUE_DIM);
        java.util.List<TensorData> keySegments = new java.util.ArrayList<>();
        java.util.List<TensorData> valueSegments = new java.util.ArrayList<>();
        int start = 0;
        for (int size : sizes) {
            float[] k = new float[HEADS * size * DIM];
            float[] v = new float[HEADS * size * VALUE_DIM];
            for (int h = 0; h < HEADS; h++) {
                System.arraycopy(keys, (h * n + start) * DIM, k, h * size * DIM, size * DIM);
                System.arraycopy(values, (h * n + start) * VALUE_DIM, v, h * size * VALUE_DIM, size * VALUE_DIM);
            }
            keySegments.add(TensorData.floats("k", TestData.direct(k), HEADS, size, DIM));
            valueSegments.add(TensorData.floats("v", TestData.direct(v), HEADS, size, VALUE_DIM));
            start += size;
        }
        float[] output = dense.runSegments(TensorData.floats("q", q, HEADS, DIM), keySegments, valueSegments, SCALE);
        TestData.assertClose(ReferenceOps.denseAttention(q, keys, values, HEADS, n, DIM, VALUE_DIM, SCALE), output,
                1e-5, "merged segments");
    }

    @Test
    void oneSharedKvHeadServesEveryQueryHead() throws Exception {
        Random random = new Random(27);
        int n = 40;
        float[] q = TestData.gaussian(random, HEADS * DIM);
        float[] sharedKeys = TestData.gaussian(random, n * DIM);
        float[] sharedValues = TestData.gaussian(random, n * VALUE_DIM);
        float[] keys = new float[HEADS * n * DIM];
        float[] values = new float[HEADS * n * VALUE_DIM];
        for (int h = 0; h < HEADS; h++) {
            System.arraycopy(sharedKeys, 0, keys, h * n * DIM, n * DIM);
            System.arraycopy(sharedValues, 0, values, h * n * VALUE_DIM, n * VALUE_DIM);
        }
        float[] output = dense.run(TensorData.floats("q", q, HEADS, DIM),
                TensorData.floats("k", sharedKeys, 1, n, DIM), TensorData.floats("v", sharedValues, 1, n, VALUE_DIM),
                SCALE);
        TestData.assertClose(ReferenceOps.denseAttention(q, keys, values, HEADS, n, DIM, VALUE_DIM, SCALE), output,
                1e-5, "broadcast kv head");
    }

    @Test
    void withEveryKeyRetrievedAndNoSummariesItEqualsFullSoftmax() throws Exception {
        Random random = new Random(22);
        int n = 64;
        float[] q = TestData.gaussian(random, HEADS * DIM);
        float[] keys = TestData.gaussian(random, HEADS * n * DIM);
        float[] values = TestData.gaussian(random, HEADS * n * VALUE_DIM);
        AttentionResult result = retrieved.run(TensorData.floats("q", q, HEADS, DIM),
                TensorData.floats("k", keys, HEADS, n, DIM), TensorData.floats("v", values, HEADS, n, VALUE_DIM),
                TensorData.bools("m", allValid(HEADS * n), HEADS, n), Summaries.none(HEADS, DIM, VALUE_DIM), SCALE);
        double[] full = ReferenceOps.denseAttention(q, keys, values, HEADS, n, DIM, VALUE_DIM, SCALE);
        TestData.assertClose(full, result.output(), 1e-5, "output");
        float[] viaDense = dense.run(TensorData.floats("q", q, HEADS, DIM), TensorData.floats("k", keys, HEADS, n, DIM),
                TensorData.floats("v", values, HEADS, n, VALUE_DIM), SCALE);
        TestData.assertClose(toDouble(viaDense), result.output(), 1e-5, "dense op vs retrieved op");
        for (int h = 0; h < HEADS; h++) {
            double total = 0;
            for (int r = 0; r < n; r++) {
                total += result.weight(h, r);
            }
            assertEquals(1.0, total, 1e-5, "key weights of head " + h + " sum to one without summaries");
        }
    }

    @Test
    void summariesStandForTheirKeysAndMaskedRowsAreIgnored() throws Exception {
        Random random = new Random(23);
        int r = 10;
        int s = 4;
        float[] q = TestData.gaussian(random, HEADS * DIM);
        float[] keys = TestData.gaussian(random, HEADS * r * DIM);
        float[] values = TestData.gaussian(random, HEADS * r * VALUE_DIM);
        boolean[] mask = allValid(HEADS * r);
        for (int h = 0; h < HEADS; h++) {
            mask[h * r + r - 1] = false;
            mask[h * r + 2] = h != 1;
            // Padding may hold garbage: it must not leak into the output.
            values[(h * r + r - 1) * VALUE_DIM] = Float.NaN;
            keys[(h * r + r - 1) * DIM] = 1e30f;
        }
        float[] means = TestData.gaussian(random, HEADS * s * DIM);
        float[] valueSums = TestData.gaussian(random, HEADS * s * VALUE_DIM);
        float[] counts = new float[HEADS * s];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = i % s == s - 1 ? 0 : 1 + random.nextInt(500);
        }
        AttentionResult result = retrieved.run(TensorData.floats("q", q, HEADS, DIM),
                TensorData.floats("k", keys, HEADS, r, DIM), TensorData.floats("v", values, HEADS, r, VALUE_DIM),
                TensorData.bools("m", mask, HEADS, r), summaries(means, valueSums, counts, s), SCALE);
        double[][] expected = ReferenceOps.retrievedAttention(q, keys, values, mask, means, valueSums, counts, HEADS, r,
                s, DIM, VALUE_DIM, SCALE);
        TestData.assertClose(expected[0], result.output(), 1e-5, "output");
        TestData.assertClose(expected[1], result.keyWeights(), 1e-5, "key weights");
        assertEquals(0f, result.weight(0, r - 1), "a masked key gets no weight");
    }

    @Test
    void summariesOfExactlyTheMissingKeysReproduceFullAttentionWhenTheyAreTight() throws Exception {
        // Split n keys into retrieved ones and groups of identical keys summarised by (mean, value sum, count):
        // a summary is exact for identical keys, so the result must equal full attention over all n.
        Random random = new Random(24);
        int r = 12;
        int groups = 3;
        int groupSize = 5;
        int n = r + groups * groupSize;
        float[] q = TestData.gaussian(random, HEADS * DIM);
        float[] retrievedKeys = TestData.gaussian(random, HEADS * r * DIM);
        float[] retrievedValues = TestData.gaussian(random, HEADS * r * VALUE_DIM);
        float[] means = TestData.gaussian(random, HEADS * groups * DIM);
        float[] groupValues = TestData.gaussian(random, HEADS * groups * groupSize * VALUE_DIM);
        float[] allKeys = new float[HEADS * n * DIM];
        float[] allValues = new float[HEADS * n * VALUE_DIM];
        float[] valueSums = new float[HEADS * groups * VALUE_DIM];
        float[] counts = new float[HEADS * groups];
        Arrays.fill(counts, groupSize);
        for (int h = 0; h < HEADS; h++) {
            System.arraycopy(retrievedKeys, h * r * DIM, allKeys, h * n * DIM, r * DIM);
            System.arraycopy(retrievedValues, h * r * VALUE_DIM, allValues, h * n * VALUE_DIM, r * VALUE_DIM);
            for (int g = 0; g < groups; g++) {
                for (int m = 0; m < groupSize; m++) {
                    int row = h * n + r + g * groupSize + m;
                    System.arraycopy(means, (h * groups + g) * DIM, allKeys, row * DIM, DIM);
                    int source = ((h * groups + g) * groupSize + m) * VALUE_DIM;
                    System.arraycopy(groupValues, source, allValues, row * VALUE_DIM, VALUE_DIM);
                    for (int e = 0; e < VALUE_DIM; e++) {
                        valueSums[(h * groups + g) * VALUE_DIM + e] += groupValues[source + e];
                    }
                }
            }
        }
        AttentionResult result = retrieved.run(TensorData.floats("q", q, HEADS, DIM),
                TensorData.floats("k", retrievedKeys, HEADS, r, DIM),
                TensorData.floats("v", retrievedValues, HEADS, r, VALUE_DIM),
                TensorData.bools("m", allValid(HEADS * r), HEADS, r), summaries(means, valueSums, counts, groups), SCALE);
        TestData.assertClose(ReferenceOps.denseAttention(q, allKeys, allValues, HEADS, n, DIM, VALUE_DIM, SCALE),
                result.output(), 1e-5, "tight summaries vs full attention");
    }

    @Test
    void attentionOverIdsGathersFromDirectStoreTables() throws Exception {
        Random random = new Random(25);
        int rows = 500;
        int r = 16;
        int s = 2;
        float[] q = TestData.gaussian(random, HEADS * DIM);
        float[] keyTable = TestData.gaussian(random, rows * DIM);
        float[] valueTable = TestData.gaussian(random, rows * VALUE_DIM);
        long[] ids = new long[HEADS * r];
        float[] keys = new float[HEADS * r * DIM];
        float[] values = new float[HEADS * r * VALUE_DIM];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(rows);
            System.arraycopy(keyTable, (int) ids[i] * DIM, keys, i * DIM, DIM);
            System.arraycopy(valueTable, (int) ids[i] * VALUE_DIM, values, i * VALUE_DIM, VALUE_DIM);
        }
        boolean[] mask = allValid(HEADS * r);
        mask[3] = false;
        float[] means = TestData.gaussian(random, HEADS * s * DIM);
        float[] valueSums = TestData.gaussian(random, HEADS * s * VALUE_DIM);
        float[] counts = {3, 40, 7, 0, 1, 1};
        TensorData keySegment = TensorData.floats("keys", TestData.direct(keyTable), rows, DIM);
        assertTrue(keySegment.zeroCopy());
        AttentionResult overIds = retrieved.runOverIds(TensorData.floats("q", q, HEADS, DIM), keySegment,
                TensorData.floats("values", TestData.direct(valueTable), rows, VALUE_DIM),
                TensorData.longs("ids", TestData.direct(ids), HEADS, r), TensorData.bools("m", mask, HEADS, r),
                summaries(means, valueSums, counts, s), SCALE);
        double[][] expected = ReferenceOps.retrievedAttention(q, keys, values, mask, means, valueSums, counts, HEADS, r,
                s, DIM, VALUE_DIM, SCALE);
        TestData.assertClose(expected[0], overIds.output(), 1e-5, "output");
        TestData.assertClose(expected[1], overIds.keyWeights(), 1e-5, "key weights");
    }

    @Test
    void largeLogitsStayFinite() throws Exception {
        int n = 4;
        float[] q = new float[HEADS * DIM];
        Arrays.fill(q, 100f);
        float[] keys = new float[HEADS * n * DIM];
        Arrays.fill(keys, 50f);
        float[] values = new float[HEADS * n * VALUE_DIM];
        Arrays.fill(values, 2f);
        float[] output = dense.run(TensorData.floats("q", q, HEADS, DIM), TensorData.floats("k", keys, HEADS, n, DIM),
                TensorData.floats("v", values, HEADS, n, VALUE_DIM), 1f);
        float[] expected = new float[HEADS * VALUE_DIM];
        Arrays.fill(expected, 2f);
        assertArrayEquals(expected, output, 1e-5f);
    }

    @Test
    void badArgumentsAreExplained() {
        int r = 4;
        TensorData q = TensorData.floats("q", new float[HEADS * DIM], HEADS, DIM);
        TensorData keys = TensorData.floats("k", new float[HEADS * r * DIM], HEADS, r, DIM);
        TensorData values = TensorData.floats("v", new float[HEADS * r * VALUE_DIM], HEADS, r, VALUE_DIM);
        TensorData mask = TensorData.bools("m", allValid(HEADS * r), HEADS, r);
        Summaries none = Summaries.none(HEADS, DIM, VALUE_DIM);

        assertMessage("disagree on the key dimension d", () -> retrieved.run(q,
                TensorData.floats("k", new float[HEADS * r * 5], HEADS, r, 5), values, mask, none, SCALE));
        assertMessage("'mask' must be [H, R] = [3, 4]", () -> retrieved.run(q, keys, values,
                TensorData.bools("m", allValid(HEADS * 3), HEADS, 3), none, SCALE));
        assertMessage("scale must be a positive finite number", () -> retrieved.run(q, keys, values, mask, none, 0f));
        boolean[] headOneEmpty = allValid(HEADS * r);
        Arrays.fill(headOneEmpty, r, 2 * r, false);
        assertMessage("head 1 has no valid retrieved key", () -> retrieved.run(q, keys, values,
                TensorData.bools("m", headOneEmpty, HEADS, r), none, SCALE));
        float[] inf = new float[HEADS * DIM];
        inf[2] = Float.POSITIVE_INFINITY;
        assertMessage("holds Infinity at element 2",
                () -> dense.run(TensorData.floats("q", inf, HEADS, DIM), keys, values, SCALE));
        assertMessage("summary counts must be finite and >= 0", () -> retrieved.run(q, keys, values, mask,
                summaries(new float[HEADS * DIM], new float[HEADS * VALUE_DIM], new float[] {1, -1, 1}, 1), SCALE));
        assertMessage("summaries must be means [H, S, d]", () -> retrieved.run(q, keys, values, mask,
                Summaries.none(HEADS, DIM + 1, VALUE_DIM), SCALE));
        assertMessage("must have H = 3 heads or 1 shared head", () -> dense.run(q,
                TensorData.floats("k", new float[2 * r * DIM], 2, r, DIM),
                TensorData.floats("v", new float[2 * r * VALUE_DIM], 2, r, VALUE_DIM), SCALE));
        assertMessage("disagree on the key count N", () -> dense.run(q, keys,
                TensorData.floats("v", new float[HEADS * 5 * VALUE_DIM], HEADS, 5, VALUE_DIM), SCALE));
    }

    private static Summaries summaries(float[] means, float[] valueSums, float[] counts, int s) {
        return new Summaries(TensorData.floats("means", means, HEADS, s, DIM),
                TensorData.floats("sums", valueSums, HEADS, s, VALUE_DIM), TensorData.floats("counts", counts, HEADS, s));
    }

    private static double[] toDouble(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
