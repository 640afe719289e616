package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link AttentionTree#retrieve}: the fine positions and summaries handed to attention in a graph. */
class TreeRetrievalTest {
    private static final TreeSettings SMALL = TreeSettings.builder().leafCapacity(8).fanout(4).build();

    @Test
    void finePositionsAndSummariesCountEveryKeyAndValueOnce() {
        List<float[]> keys = TestVectors.clustered(3000, 16, 10, 31);
        List<float[]> values = TestVectors.gaussian(3000, 8, 32);
        AttentionTree tree = TestVectors.treeOf(keys, values, SMALL);
        // Sinks and window lie in pruned subtrees, so the summaries must have them taken out.
        SearchParams params = SearchParams.builder().k(4).beam(2).sinks(16).window(100).build();
        TreeRetrieval retrieval = tree.retrieve(TestVectors.gaussian(1, 16, 33).get(0), 0.25f, params);

        BitSet fine = new BitSet();
        double[] valueSum = new double[8];
        for (int position : retrieval.positions()) {
            assertTrue(!fine.get(position), "position " + position + " retrieved twice");
            fine.set(position);
            for (int d = 0; d < 8; d++) {
                valueSum[d] += values.get(position)[d];
            }
        }
        assertTrue(fine.nextClearBit(0) >= 16, "every sink is attended finely");
        assertEquals(100, fine.get(2900, 3000).cardinality(), "every window position is attended finely");
        assertTrue(!retrieval.summaries().isEmpty(), "a top-4 search over 3000 keys prunes subtrees");

        int counted = fine.cardinality();
        for (TreeRetrieval.Summary summary : retrieval.summaries()) {
            assertTrue(summary.count() >= 1);
            counted += summary.count();
            for (int d = 0; d < 8; d++) {
                valueSum[d] += summary.valueSum()[d];
            }
        }
        assertEquals(3000, counted);
        double[] expected = new double[8];
        for (float[] value : values) {
            for (int d = 0; d < 8; d++) {
                expected[d] += value[d];
            }
        }
        for (int d = 0; d < 8; d++) {
            assertEquals(expected[d], valueSum[d], 1e-2, "value sum in dimension " + d);
        }
    }

    @Test
    void withKAtLeastNEveryPositionIsFineAndNothingIsSummarised() {
        List<float[]> keys = TestVectors.clustered(500, 16, 5, 34);
        AttentionTree tree = TestVectors.treeOf(keys, TestVectors.gaussian(500, 8, 35), SMALL);
        SearchParams params = SearchParams.builder().mode(SearchMode.EXACT).k(500).build();
        TreeRetrieval retrieval = tree.retrieve(TestVectors.gaussian(1, 16, 36).get(0), 0.25f, params);
        assertEquals(500, retrieval.positions().length);
        assertTrue(retrieval.summaries().isEmpty());
    }

    @Test
    void fineTermsAreTheTopKSinksAndWindowHoweverManyLeavesTheBeamScans() {
        List<float[]> keys = TestVectors.clustered(4000, 16, 12, 37);
        List<float[]> values = TestVectors.gaussian(4000, 8, 38);
        AttentionTree tree = TestVectors.treeOf(keys, values, SMALL);
        // A wide beam scans hundreds of leaves; only 8 + 4 + 20 positions may be fine.
        SearchParams params = SearchParams.builder().k(8).beam(200).sinks(4).window(20).build();
        float[] query = TestVectors.gaussian(1, 16, 39).get(0);
        TreeRetrieval retrieval = tree.retrieve(query, 0.25f, params);

        BitSet fine = new BitSet();
        for (int position : retrieval.positions()) {
            fine.set(position);
        }
        assertEquals(retrieval.positions().length, fine.cardinality(), "no position is fine twice");
        assertTrue(fine.cardinality() <= 8 + 4 + 20, "fine positions: " + fine.cardinality());
        for (long position : tree.search(query, params).positions()) {
            assertTrue(fine.get((int) position), "searched position " + position + " is attended finely");
        }
        int counted = fine.cardinality();
        double[] valueSum = new double[8];
        fine.stream().forEach(p -> addTo(valueSum, values.get(p)));
        for (TreeRetrieval.Summary summary : retrieval.summaries()) {
            counted += summary.count();
            for (int d = 0; d < 8; d++) {
                valueSum[d] += summary.valueSum()[d];
            }
        }
        assertEquals(4000, counted, "fine keys and summaries count every key once");
        double[] expected = new double[8];
        values.forEach(v -> addTo(expected, v));
        for (int d = 0; d < 8; d++) {
            assertEquals(expected[d], valueSum[d], 1e-2, "value sum in dimension " + d);
        }
        assertTrue(retrieval.summaries().size() > 100, "the scanned leaves' other keys are summarised, not dropped");
    }

    @Test
    void leafRemaindersCarryTheSoftmaxMassOfTheirKeys() {
        List<float[]> keys = TestVectors.gaussian(2000, 16, 40);
        AttentionTree tree = TestVectors.treeOf(keys, TestVectors.gaussian(2000, 8, 41), SMALL);
        // A beam wider than the tree scans every leaf: nothing is pruned, all but the top-8 are leaf remainders.
        SearchParams params = SearchParams.builder().k(8).beam(5000).sinks(0).window(0).build();
        float[] query = TestVectors.gaussian(1, 16, 42).get(0);
        float scale = 0.5f;
        TreeRetrieval retrieval = tree.retrieve(query, scale, params);

        double exact = 0;
        for (float[] key : keys) {
            exact += Math.exp(scale * Dot.dot(query, 0, key, 0, 16));
        }
        double retrieved = 0;
        for (int position : retrieval.positions()) {
            retrieved += Math.exp(scale * Dot.dot(query, 0, keys.get(position), 0, 16));
        }
        double meansOnly = retrieved;
        for (TreeRetrieval.Summary summary : retrieval.summaries()) {
            retrieved += summary.count() * Math.exp(scale * Dot.dot(query, 0, summary.meanKey(), 0, 16));
        }
        assertEquals(8, retrieval.positions().length);
        // Int8 codes score the remainders, so the mass is right to about their precision.
        assertEquals(1, retrieved / exact, 5e-3, "softmax normaliser over fine keys and summaries vs every key");
        assertTrue(meansOnly < exact, "the summaries carry mass the fine keys lack");
    }

    private static void addTo(double[] sum, float[] value) {
        for (int d = 0; d < sum.length; d++) {
            sum[d] += value[d];
        }
    }
}
