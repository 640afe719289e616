package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TreeAttentionTest {
    private static final TreeSettings SMALL = TreeSettings.builder().leafCapacity(8).fanout(4).build();

    @Test
    void withKAtLeastNTreeAttentionIsFullSoftmaxAttention() {
        List<float[]> keys = TestVectors.clustered(2000, 32, 10, 21);
        List<float[]> values = TestVectors.gaussian(2000, 24, 22);
        AttentionTree tree = TestVectors.treeOf(keys, values, SMALL);
        float scale = (float) (1 / Math.sqrt(32));
        for (SearchMode mode : SearchMode.values()) {
            SearchParams params = SearchParams.builder().mode(mode).k(2000).beam(1).build();
            for (float[] query : TestVectors.clustered(10, 32, 10, 23)) {
                float[] expected = BruteForce.attention(keys, values, query, scale);
                float[] actual = tree.attend(query, scale, params).output();
                assertTrue(BruteForce.maxAbsDiff(expected, actual) <= 1e-5,
                        mode + ": max abs diff " + BruteForce.maxAbsDiff(expected, actual));
            }
        }
    }

    @Test
    void exactModeAttentionIsCloseToFullAttentionWhenScoresArePeaked() {
        List<float[]> keys = TestVectors.clustered(3000, 32, 10, 24);
        List<float[]> values = TestVectors.gaussian(3000, 16, 25);
        AttentionTree tree = TestVectors.treeOf(keys, values, TreeSettings.defaults());
        SearchParams params = SearchParams.builder().mode(SearchMode.EXACT).k(64).build();
        for (float[] query : TestVectors.clustered(10, 32, 10, 26)) {
            float[] expected = BruteForce.attention(keys, values, query, 1f);
            float[] actual = tree.attend(query, 1f, params).output();
            double error = BruteForce.relativeError(actual, expected);
            assertTrue(error < 0.05, "relative error " + error);
        }
    }

    @Test
    void everyKeyCountsOnceEvenWhenSinksAndWindowLieInPrunedSubtrees() {
        // A vanishing scale makes attention uniform, so the output must be the plain mean of all values,
        // whatever was pruned: a sink or window key counted twice (finely and in a summary) would show.
        List<float[]> keys = TestVectors.clustered(3000, 16, 10, 27);
        List<float[]> values = TestVectors.gaussian(3000, 8, 28);
        AttentionTree tree = TestVectors.treeOf(keys, values, SMALL);
        float[] mean = new float[8];
        for (float[] value : values) {
            for (int d = 0; d < 8; d++) {
                mean[d] += value[d] / values.size();
            }
        }
        SearchParams params = SearchParams.builder().k(4).beam(2).sinks(16).window(100).build();
        AttentionResult result = tree.attend(TestVectors.gaussian(1, 16, 29).get(0), 1e-9f, params);
        assertTrue(BruteForce.maxAbsDiff(mean, result.output()) <= 1e-5,
                "max abs diff " + BruteForce.maxAbsDiff(mean, result.output()));
        assertEquals(1.0 / 3000, result.weights()[0], 1e-9);
    }

    @Test
    void weightsOfRetrievedPositionsMatchFullAttentionWhenNothingIsPruned() {
        List<float[]> keys = TestVectors.gaussian(300, 8, 30);
        AttentionTree tree = TestVectors.treeOf(keys, keys, SMALL);
        float[] query = TestVectors.gaussian(1, 8, 31).get(0);
        AttentionResult result = tree.attend(query, 0.5f, SearchParams.builder().k(300).build());
        double denominator = 0;
        for (float[] key : keys) {
            denominator += Math.exp(0.5 * BruteForce.dot(key, query));
        }
        for (int i = 0; i < 5; i++) {
            double expected = Math.exp(0.5 * BruteForce.dot(keys.get((int) result.positions()[i]), query)) / denominator;
            assertEquals(expected, result.weights()[i], 1e-6);
        }
    }

    @Test
    void refiningPrunedSubtreesKeepsApproximateAttentionCloseToFullAttention() {
        // A narrow beam prunes most of the tree and the values do not follow the keys, so summaries are
        // poor here: without refinement the mean relative error is 0.48, with the subtrees of largest
        // expected error opened 0.078. Opening them must also keep the partition exact (every key once).
        List<float[]> keys = TestVectors.clustered(4000, 16, 12, 32);
        List<float[]> values = TestVectors.gaussian(4000, 8, 33);
        AttentionTree tree = TestVectors.treeOf(keys, values, SMALL);
        SearchParams params = SearchParams.builder().k(8).beam(8).sinks(0).window(0).build();
        double total = 0;
        List<float[]> queries = TestVectors.clustered(20, 16, 12, 34);
        for (float[] query : queries) {
            float[] expected = BruteForce.attention(keys, values, query, 0.25f);
            total += BruteForce.relativeError(tree.attend(query, 0.25f, params).output(), expected);
        }
        assertTrue(total / queries.size() < 0.3, "mean relative error " + total / queries.size());
    }

    @Test
    void approximateAttentionKeepsTheBoxCapOfWideSubtreesWhenScoresArePeaked() {
        // Peaked scores (scale 1 over wide clusters) and a beam of 2 prune internal subtrees whose
        // Gaussian mass, uncapped, outweighs everything attended: without the box cap the worst relative
        // error here was 1.07 at beam 2, with it 4.3e-5. At beam 1 a capped subtree still set the
        // refinement floor above the heavy leaves beside it until the floor was lowered once it was
        // opened (TreeAttention.REESTIMATED_SHARE): 7 of the 10 queries were off by 0.95 to 1.09.
        List<float[]> keys = TestVectors.clustered(3000, 32, 10, 24);
        List<float[]> values = TestVectors.gaussian(3000, 16, 25);
        AttentionTree tree = TestVectors.treeOf(keys, values, TreeSettings.defaults());
        for (int beam : new int[] {1, 2, 4, 56}) {
            SearchParams params = SearchParams.builder().k(64).beam(beam).build();
            for (float[] query : TestVectors.clustered(10, 32, 10, 26)) {
                float[] expected = BruteForce.attention(keys, values, query, 1f);
                double error = BruteForce.relativeError(tree.attend(query, 1f, params).output(), expected);
                assertTrue(error < 1e-3, "beam " + beam + ": relative error " + error);
            }
        }
    }

    @Test
    void lightPrunedLeavesTakeTheirParentsMeanValue() {
        // A vanishing scale makes attention uniform, so every summary's mass is exact, and at this many keys
        // a pruned leaf (8 keys at most) is under LIGHT_SUBTREE of the total, a pruned internal node (from 32
        // keys) is not. The values are one vector per parent of leaves, so a light leaf's parent has its mean
        // value and the output is the plain mean of all values. The whole tree's mean value in its place
        // left a query off by 9.3e-4.
        int count = (int) (7.5 / TreeAttention.LIGHT_SUBTREE);
        TreeSettings settings = TreeSettings.builder().leafCapacity(8).fanout(16).build();
        List<float[]> keys = TestVectors.clustered(count, 8, 50, 35);
        AttentionTree shape = TestVectors.treeOf(keys, keys, settings);
        List<float[]> parentValues = TestVectors.gaussian(shape.nodeCount(), 4, 36);
        float[][] values = new float[count][];
        for (int node = 0; node < shape.nodeCount(); node++) {
            if (shape.level(node) == 1) {
                for (int leaf : shape.children(node)) {
                    for (long position : shape.leafPositions(leaf)) {
                        values[(int) position] = parentValues.get(node);
                    }
                }
            }
        }
        AttentionTree tree = TestVectors.treeOf(keys, List.of(values), settings);
        for (int node = 0; node < shape.nodeCount(); node++) {
            assertArrayEquals(shape.level(node) == 0 ? shape.leafPositions(node) : toLongs(shape.children(node)),
                    tree.level(node) == 0 ? tree.leafPositions(node) : toLongs(tree.children(node)),
                    "the tree over the same keys is the same tree");
        }
        double[] sums = new double[4];
        for (float[] value : values) {
            for (int d = 0; d < 4; d++) {
                sums[d] += value[d];
            }
        }
        float[] mean = new float[4];
        for (int d = 0; d < 4; d++) {
            mean[d] = (float) (sums[d] / count);
        }
        SearchParams params = SearchParams.builder().k(4).beam(2).sinks(0).window(0).build();
        for (float[] query : TestVectors.clustered(5, 8, 50, 37)) {
            float[] output = tree.attend(query, 1e-9f, params).output();
            double diff = BruteForce.maxAbsDiff(mean, output);
            assertTrue(diff <= 1e-5, "max abs diff " + diff);
        }
    }

    private static long[] toLongs(int[] ints) {
        long[] longs = new long[ints.length];
        for (int i = 0; i < ints.length; i++) {
            longs[i] = ints[i];
        }
        return longs;
    }
}
