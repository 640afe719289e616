package dev.arbor.ops;

import static dev.arbor.ops.SearchStepTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.arbor.onnx.TensorData;
import dev.arbor.ops.RetrievedAttention.AttentionResult;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RetrievalBatchTest {
    private static final int DIM = 4;
    private static final int ROWS = 50;

    @Test
    void raggedHeadsArePaddedAndAttendAsIfAlone() throws Exception {
        Random random = new Random(51);
        float[] keyTable = TestData.gaussian(random, ROWS * DIM);
        float[] valueTable = TestData.gaussian(random, ROWS * DIM);
        float[] queries = TestData.gaussian(random, 3 * DIM);
        float[] mean0 = TestData.gaussian(random, DIM);
        float[] sum0 = TestData.gaussian(random, DIM);
        float[] mean2a = TestData.gaussian(random, DIM);
        float[] sum2a = TestData.gaussian(random, DIM);
        float[] mean2b = TestData.gaussian(random, DIM);
        float[] sum2b = TestData.gaussian(random, DIM);
        long[][] rowsPerHead = {{4, 9, 17}, {0, 1, 2, 3, 49}, {}};
        RetrievalBatch batch = RetrievalBatch.builder(3, DIM, DIM)
                .addKeys(0, rowsPerHead[0]).addSummary(0, mean0, sum0, 12)
                .addKeys(1, rowsPerHead[1])
                .addSummary(2, mean2a, sum2a, 3).addSummary(2, mean2b, sum2b, 70)
                .build();
        assertEquals(5, batch.retrieved());
        assertEquals(17, batch.row(0, 2));
        assertEquals(-1, batch.row(0, 3));

        AttentionResult result;
        try (RetrievedAttention attention =
                RetrievedAttention.open(new SessionFactory(SessionSettings.builder().intraOpThreads(1).build()))) {
            result = attention.runOverIds(TensorData.floats("q", queries, 3, DIM),
                    TensorData.floats("k", TestData.direct(keyTable), ROWS, DIM),
                    TensorData.floats("v", TestData.direct(valueTable), ROWS, DIM), batch, 0.5f);
        }

        float[][] means = {mean0, null, concat(mean2a, mean2b)};
        float[][] sums = {sum0, null, concat(sum2a, sum2b)};
        float[][] counts = {{12}, {}, {3, 70}};
        for (int h = 0; h < 3; h++) {
            long[] rows = rowsPerHead[h];
            float[] keys = new float[rows.length * DIM];
            float[] values = new float[rows.length * DIM];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(keyTable, (int) rows[i] * DIM, keys, i * DIM, DIM);
                System.arraycopy(valueTable, (int) rows[i] * DIM, values, i * DIM, DIM);
            }
            boolean[] valid = new boolean[rows.length];
            java.util.Arrays.fill(valid, true);
            int s = counts[h].length;
            double[][] alone = ReferenceOps.retrievedAttention(java.util.Arrays.copyOfRange(queries, h * DIM,
                    (h + 1) * DIM), keys, values, valid, s == 0 ? new float[0] : means[h],
                    s == 0 ? new float[0] : sums[h], counts[h], 1, rows.length, s, DIM, DIM, 0.5f);
            TestData.assertClose(alone[0], result.outputOf(h), 1e-5, "head " + h);
            for (int slot = 0; slot < rows.length; slot++) {
                assertEquals(alone[1][slot], result.weight(h, slot), 1e-5, "weight of head " + h + " slot " + slot);
            }
            for (int slot = rows.length; slot < batch.retrieved(); slot++) {
                assertEquals(0f, result.weight(h, slot), "padding of head " + h);
            }
        }
    }

    @Test
    void badEntriesAreExplained() {
        RetrievalBatch.Builder batch = RetrievalBatch.builder(2, DIM, DIM);
        assertMessage("head must be in [0, 2), got 2", () -> batch.addKey(2, 0));
        assertMessage("store rows are >= 0", () -> batch.addKey(0, -3));
        assertMessage("mean key of 4 and a value sum of 4 floats, got 3 and 4",
                () -> batch.addSummary(0, new float[3], new float[4], 1));
        assertMessage("at least one key, got count 0", () -> batch.addSummary(0, new float[4], new float[4], 0));
        assertArrayEquals(new long[] {2, 1}, batch.build().ids().shape(), "an empty batch still has one masked slot");
    }

    @Test
    void summariesAddedInBulkEqualSummariesAddedOneByOne() {
        Random random = new Random(52);
        int count = 40; // past the builder's initial room, so the bulk path must grow it
        float[] means = TestData.gaussian(random, count * DIM);
        float[] sums = TestData.gaussian(random, count * DIM);
        float[] counts = new float[count];
        for (int i = 0; i < count; i++) {
            counts[i] = 1 + random.nextInt(50);
        }
        RetrievalBatch.Builder single = RetrievalBatch.builder(2, DIM, DIM).addKey(0, 3).addKey(1, 4);
        RetrievalBatch.Builder bulk = RetrievalBatch.builder(2, DIM, DIM).addKey(0, 3).addKey(1, 4);
        single.addSummary(1, java.util.Arrays.copyOf(means, DIM), java.util.Arrays.copyOf(sums, DIM), (long) counts[0]);
        bulk.addSummaries(1, means, sums, counts, 1);
        for (int i = 0; i < count; i++) {
            single.addSummary(0, java.util.Arrays.copyOfRange(means, i * DIM, (i + 1) * DIM),
                    java.util.Arrays.copyOfRange(sums, i * DIM, (i + 1) * DIM), (long) counts[i]);
        }
        // Arrays longer than the count, as a reused retrieval's are: only the first entries count.
        bulk.addSummaries(0, java.util.Arrays.copyOf(means, (count + 5) * DIM), java.util.Arrays.copyOf(sums, (count + 5) * DIM),
                java.util.Arrays.copyOf(counts, count + 5), count);
        RetrievedAttention.Summaries expected = single.build().summaries();
        RetrievedAttention.Summaries actual = bulk.build().summaries();
        assertArrayEquals(expected.means().shape(), actual.means().shape());
        assertArrayEquals(floats(expected.means()), floats(actual.means()));
        assertArrayEquals(floats(expected.valueSums()), floats(actual.valueSums()));
        assertArrayEquals(floats(expected.counts()), floats(actual.counts()));
        assertMessage("at least one key, got count 0.0",
                () -> bulk.addSummaries(0, new float[DIM], new float[DIM], new float[1], 1));
        assertMessage("2 summaries need 8 mean-key floats", () -> bulk.addSummaries(0, new float[DIM], new float[2 * DIM],
                new float[] {1, 1}, 2));
    }

    @Test
    void reusedBuilderAndWorkspaceEqualFreshBuilds() {
        Random random = new Random(77);
        RetrievalBatch.Builder reused = RetrievalBatch.builder(1, DIM, DIM);
        RetrievalBatch.Workspace workspace = new RetrievalBatch.Workspace();
        // Big, small, empty, bigger: stale rows and summaries of an earlier batch must never show.
        int[][] shapes = {{5, 12, 9}, {2, 3, 1}, {1, 0, 0}, {7, 30, 40}, {3, 1, 2}};
        for (int[] shape : shapes) {
            int heads = shape[0];
            RetrievalBatch.Builder fresh = RetrievalBatch.builder(heads, DIM, DIM);
            reused.reset(heads);
            for (int h = 0; h < heads; h++) {
                int keys = random.nextInt(shape[1] + 1);
                for (int i = 0; i < keys; i++) {
                    long row = random.nextInt(ROWS);
                    fresh.addKey(h, row);
                    reused.addKey(h, row);
                }
                int count = random.nextInt(shape[2] + 1);
                float[] means = TestData.gaussian(random, count * DIM);
                float[] sums = TestData.gaussian(random, count * DIM);
                float[] counts = new float[count];
                for (int i = 0; i < count; i++) {
                    counts[i] = 1 + random.nextInt(9);
                }
                fresh.addSummaries(h, means, sums, counts, count);
                if (h % 2 == 0) {
                    reused.addSummariesByReference(h, means, sums, counts, count);
                } else {
                    reused.addSummaries(h, means, sums, counts, count);
                }
                if (h % 3 == 0) {
                    // More summaries after by-reference ones: the head copies the earlier ones first.
                    float[] mean = TestData.gaussian(random, DIM);
                    float[] sum = TestData.gaussian(random, DIM);
                    fresh.addSummary(h, mean, sum, 3);
                    reused.addSummary(h, mean, sum, 3);
                    fresh.addSummaries(h, means, sums, counts, count);
                    reused.addSummariesByReference(h, means, sums, counts, count);
                }
            }
            RetrievalBatch expected = fresh.build();
            RetrievalBatch actual = reused.build(workspace);
            assertEquals(expected.heads(), actual.heads());
            assertEquals(expected.retrieved(), actual.retrieved());
            for (int h = 0; h < heads; h++) {
                for (int slot = 0; slot < expected.retrieved(); slot++) {
                    assertEquals(expected.row(h, slot), actual.row(h, slot));
                }
            }
            assertArrayEquals(expected.ids().shape(), actual.ids().shape());
            assertArrayEquals(longs(expected.ids()), longs(actual.ids()));
            assertArrayEquals(bytes(expected.mask()), bytes(actual.mask()));
            assertArrayEquals(expected.summaries().means().shape(), actual.summaries().means().shape());
            assertArrayEquals(floats(expected.summaries().means()), floats(actual.summaries().means()));
            assertArrayEquals(floats(expected.summaries().valueSums()), floats(actual.summaries().valueSums()));
            assertArrayEquals(floats(expected.summaries().counts()), floats(actual.summaries().counts()));
            assertEquals(true, actual.ids().zeroCopy() && actual.mask().zeroCopy(), "ONNX Runtime reads the workspace in place");
        }
    }

    private static long[] longs(TensorData tensor) {
        java.nio.LongBuffer buffer = ((java.nio.LongBuffer) tensor.data()).duplicate();
        long[] out = new long[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static byte[] bytes(TensorData tensor) {
        java.nio.ByteBuffer buffer = ((java.nio.ByteBuffer) tensor.data()).duplicate();
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static float[] floats(TensorData tensor) {
        java.nio.FloatBuffer buffer = ((java.nio.FloatBuffer) tensor.data()).duplicate();
        float[] out = new float[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
