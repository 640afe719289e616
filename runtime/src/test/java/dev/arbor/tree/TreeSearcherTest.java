package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TreeSearcherTest {
    private static final TreeSettings SMALL = TreeSettings.builder().leafCapacity(8).fanout(4).build();
    private static final SearchParams EXACT = SearchParams.builder()
            .mode(SearchMode.EXACT)
            .sinks(0)
            .window(0)
            .build();

    @Test
    void exactSearchEqualsBruteForceOnRandomKeys() {
        List<float[]> keys = TestVectors.gaussian(3000, 16, 1);
        AttentionTree tree = TestVectors.treeOf(keys, keys, TreeSettings.defaults());
        assertExactEqualsBruteForce(tree, keys, TestVectors.gaussian(20, 16, 2), new int[] {1, 10, 64});
    }

    @Test
    void exactSearchEqualsBruteForceOnClusteredKeys() {
        List<float[]> keys = TestVectors.clustered(4000, 32, 12, 3);
        AttentionTree tree = TestVectors.treeOf(keys, keys, SMALL);
        List<float[]> queries = new ArrayList<>(TestVectors.clustered(10, 32, 12, 4));
        queries.addAll(TestVectors.gaussian(10, 32, 5));
        assertExactEqualsBruteForce(tree, keys, queries, new int[] {1, 7, 64, 500});
    }

    @Test
    void exactSearchBreaksTiesByLowerPositionLikeBruteForce() {
        // Small integer coordinates make many scores exactly equal; repeated keys add exact duplicates.
        List<float[]> keys = new ArrayList<>(TestVectors.smallIntegers(1500, 8, 2, 6));
        float[] duplicate = keys.get(17);
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 300; i++) {
            keys.add(random.nextInt(keys.size()), duplicate.clone());
        }
        AttentionTree tree = TestVectors.treeOf(keys, keys, SMALL);
        List<float[]> queries = new ArrayList<>(TestVectors.smallIntegers(15, 8, 3, 8));
        queries.add(duplicate.clone());
        for (int k : new int[] {1, 5, 64, 301}) {
            for (float[] query : queries) {
                assertArrayEquals(BruteForce.topK(keys, query, k),
                        tree.search(query, EXACT.toBuilder().k(k).build()).positions(), "k=" + k);
            }
        }
    }

    @Test
    void exactSearchOnAllIdenticalKeysReturnsTheFirstPositions() {
        List<float[]> keys = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            keys.add(new float[] {1, 2, 3, 4});
        }
        AttentionTree tree = TestVectors.treeOf(keys, keys, SMALL);
        SearchResult result = tree.search(new float[] {1, 0, 0, 1}, EXACT.toBuilder().k(10).build());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, result.positions());
    }

    @Test
    void approximateSearchFindsMostOfTheTopKOnClusteredKeys() {
        List<float[]> keys = TestVectors.clustered(20000, 32, 40, 9);
        AttentionTree tree = TestVectors.treeOf(keys, keys, TreeSettings.defaults());
        SearchParams params = SearchParams.builder().k(32).sinks(0).window(0).build();
        double recall = 0;
        List<float[]> queries = TestVectors.clustered(20, 32, 40, 10);
        for (float[] query : queries) {
            long[] expected = BruteForce.topK(keys, query, 32);
            long[] found = tree.search(query, params).positions();
            recall += overlap(expected, found) / 32.0;
        }
        recall /= queries.size();
        assertTrue(recall >= 0.9, "approximate recall@32 was " + recall);
    }

    @Test
    void wideKeysGetPrincipalDirectionsAndSearchStillMatchesBruteForce() {
        // Dim 384 is above PrincipalDirections.MIN_KEY_DIM, so splits fit directions, and the rerank
        // budget allows only 2k exact rows.
        assertTrue(PrincipalDirections.pay(384) && !PrincipalDirections.pay(64));
        List<float[]> keys = TestVectors.clustered(6000, 384, 30, 21);
        AttentionTree tree = TestVectors.treeOf(keys, keys, TreeSettings.defaults());
        List<float[]> queries = TestVectors.clustered(10, 384, 30, 22);
        assertExactEqualsBruteForce(tree, keys, queries, new int[] {1, 64});
        SearchParams params = SearchParams.builder().k(64).sinks(0).window(0).build();
        double recall = 0;
        for (float[] query : queries) {
            recall += overlap(BruteForce.topK(keys, query, 64), tree.search(query, params).positions()) / 64.0;
        }
        recall /= queries.size();
        assertTrue(recall >= 0.9, "approximate recall@64 on dim-384 keys was " + recall);
    }

    @Test
    void approximateSearchScansLeavesBeyondItsBudgetUntilItHoldsKKeys() {
        // Leaves of at most 7 keys: 3 × beam = 12 leaves hold fewer than k = 120 keys.
        TreeSettings wide = TreeSettings.builder().leafCapacity(8).fanout(16).build();
        List<float[]> keys = TestVectors.clustered(3000, 16, 10, 13);
        AttentionTree tree = TestVectors.treeOf(keys, keys, wide);
        SearchParams params = SearchParams.builder().k(120).beam(4).sinks(0).window(0).build();
        for (float[] query : TestVectors.gaussian(5, 16, 14)) {
            SearchResult result = tree.search(query, params);
            assertEquals(120, result.size());
            assertEquals(120, Arrays.stream(result.positions()).distinct().count());
        }
    }

    @Test
    void normalTailMatchesKnownValuesFarIntoTheTail() {
        double[][] known = {{0, 0.5}, {1, 0.15865525393145707}, {-1, 0.8413447460685429}, {3, 1.3498980316301e-3},
            {-3, 0.9986501019683699}, {5, 2.866515718791939e-7}, {10, 7.61985302416047e-24}, {30, 4.906713927148e-198}};
        for (double[] point : known) {
            double log = TreeSearcher.logNormalTail(point[0]);
            assertEquals(Math.log(point[1]), log, 2e-6 * Math.max(1, Math.abs(Math.log(point[1]))), "z = " + point[0]);
        }
        assertEquals(Math.log(64) + Math.log(0.5), TreeSearcher.logExpectedAbove(2f, 2f, 1f, 64), 1e-6);
        assertEquals(Double.NEGATIVE_INFINITY, TreeSearcher.logExpectedAbove(2f, 1f, 0f, 64));
    }

    @Test
    void sinksAndWindowAreAlwaysRetrieved() {
        List<float[]> keys = TestVectors.clustered(2000, 16, 8, 11);
        AttentionTree tree = TestVectors.treeOf(keys, keys, SMALL);
        SearchParams params = SearchParams.builder().k(5).beam(2).sinks(3).window(10).build();
        SearchResult result = tree.search(TestVectors.gaussian(1, 16, 12).get(0), params);
        long[] positions = result.positions();
        for (long p : new long[] {0, 1, 2, 1990, 1995, 1999}) {
            assertTrue(Arrays.stream(positions).anyMatch(x -> x == p), "position " + p + " missing");
        }
        for (int i = 1; i < result.size(); i++) {
            assertTrue(result.scores()[i - 1] >= result.scores()[i], "results must be sorted best first");
        }
        assertTrue(result.size() >= 5 + 3 + 10 - 5 && result.size() <= 5 + 3 + 10);
    }

    @Test
    void insertsInterleavedWithQueriesGiveTheSameAnswersAsATreeBuiltInOneGo() {
        List<float[]> keys = TestVectors.clustered(3000, 16, 10, 13);
        List<float[]> queries = TestVectors.clustered(8, 16, 10, 14);
        SearchParams approximate = SearchParams.builder().k(20).beam(4).build();
        AttentionTree interleaved = AttentionTree.builder().keyDim(16).valueDim(16).settings(SMALL).build();
        for (int i = 0; i < keys.size(); i++) {
            interleaved.append(keys.get(i), keys.get(i));
            if (i % 250 == 249) {
                List<float[]> prefix = keys.subList(0, i + 1);
                for (float[] query : queries) {
                    assertArrayEquals(BruteForce.topK(prefix, query, 20),
                            interleaved.search(query, EXACT.toBuilder().k(20).build()).positions());
                    interleaved.search(query, approximate);
                    interleaved.attend(query, 0.25f, approximate);
                }
            }
        }
        AttentionTree oneGo = TestVectors.treeOf(keys, keys, SMALL);
        for (float[] query : queries) {
            assertArrayEquals(oneGo.search(query, EXACT).positions(), interleaved.search(query, EXACT).positions());
            assertArrayEquals(oneGo.search(query, approximate).positions(),
                    interleaved.search(query, approximate).positions());
            assertArrayEquals(oneGo.attend(query, 0.25f, approximate).output(),
                    interleaved.attend(query, 0.25f, approximate).output());
        }
    }

    @Test
    void treeOverAFilledStoreEqualsTreeBuiltByAppending() {
        List<float[]> keys = TestVectors.gaussian(700, 8, 15);
        AttentionTree appended = TestVectors.treeOf(keys, keys, SMALL);
        AttentionTree rebuilt = AttentionTree.builder().store(appended.store()).settings(SMALL).build();
        assertEquals(appended.nodeCount(), rebuilt.nodeCount());
        float[] query = TestVectors.gaussian(1, 8, 16).get(0);
        assertArrayEquals(appended.search(query, EXACT).positions(), rebuilt.search(query, EXACT).positions());
    }

    @Test
    void nodeAccessorsDescribeAConsistentTree() {
        List<float[]> keys = TestVectors.clustered(1000, 8, 5, 17);
        AttentionTree tree = TestVectors.treeOf(keys, keys, SMALL);
        long[] seen = new long[keys.size()];
        assertEquals(keys.size(), countLeaves(tree, tree.root(), seen));
        assertTrue(Arrays.stream(seen).allMatch(c -> c == 1), "every position must be in exactly one leaf");
        assertEquals(tree.nodeCount() * 8, tree.meanKeys().remaining());
        assertTrue(tree.meanKeys().isDirect());
        float[] query = TestVectors.gaussian(1, 8, 18).get(0);
        double queryNorm = Math.sqrt(BruteForce.dot(query, query));
        int leaf = tree.root();
        while (tree.level(leaf) > 0) {
            leaf = tree.children(leaf)[0];
        }
        float[] mean = new float[8];
        tree.meanKeys().get(leaf * 8, mean);
        float bound = (float) (BruteForce.dot(query, mean) + queryNorm * tree.radii().get(leaf));
        for (long position : tree.leafPositions(leaf)) {
            assertTrue(BruteForce.dot(keys.get((int) position), query) <= bound + 1e-4,
                    "mean + |q| radius must bound every key of the leaf");
        }
    }

    private static long countLeaves(AttentionTree tree, int node, long[] seen) {
        if (tree.level(node) == 0) {
            long[] positions = tree.leafPositions(node);
            for (long p : positions) {
                seen[(int) p]++;
            }
            assertEquals(positions.length, tree.keyCount(node));
            return positions.length;
        }
        long total = 0;
        for (int child : tree.children(node)) {
            assertEquals(tree.level(node) - 1, tree.level(child), "all leaves must sit at the same depth");
            total += countLeaves(tree, child, seen);
        }
        assertEquals(total, tree.keyCount(node));
        return total;
    }

    /**
     * Integer-valued keys give exact scores, so positions must match the reference one for one. On
     * real-valued keys the tree's SIMD dot products round differently from the reference's sequential
     * sum, so two keys whose scores differ by an ulp may swap: there every rank must hold a key whose
     * true score equals the reference's score at that rank (up to rounding).
     */
    private static void assertExactEqualsBruteForce(
            AttentionTree tree, List<float[]> keys, List<float[]> queries, int[] ks) {
        for (int k : ks) {
            SearchParams params = EXACT.toBuilder().k(k).build();
            for (float[] query : queries) {
                long[] expected = BruteForce.topK(keys, query, k);
                SearchResult result = tree.search(query, params);
                assertEquals(k, result.size());
                assertEquals(k, Arrays.stream(result.positions()).distinct().count(), "positions must be distinct");
                for (int i = 0; i < k; i++) {
                    float expectedScore = BruteForce.dot(keys.get((int) expected[i]), query);
                    float trueScore = BruteForce.dot(keys.get((int) result.positions()[i]), query);
                    double tolerance = 1e-5 * (1 + Math.abs(expectedScore));
                    assertEquals(expectedScore, trueScore, tolerance, "k=" + k + " rank " + i + ": expected "
                            + BruteForce.describe(expected) + " got " + BruteForce.describe(result.positions()));
                    assertEquals(trueScore, result.scores()[i], tolerance);
                }
            }
        }
    }

    static int overlap(long[] expected, long[] found) {
        int hits = 0;
        for (long e : expected) {
            for (long f : found) {
                if (e == f) {
                    hits++;
                    break;
                }
            }
        }
        return hits;
    }
}
