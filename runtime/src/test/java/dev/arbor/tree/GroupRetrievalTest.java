package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link AttentionTree#retrieve(float[], int, int, float, SearchParams, GroupRetrieval)} against brute force. */
class GroupRetrievalTest {
    private static final int DIM = 8;
    private static final TreeSettings SMALL = TreeSettings.builder().leafCapacity(8).fanout(4).build();

    @Test
    void everyQueryOfTheGroupCountsEveryKeyAndValueOnce() {
        List<float[]> keys = TestVectors.clustered(3000, DIM, 10, 61);
        List<float[]> values = TestVectors.gaussian(3000, DIM, 62);
        AttentionTree tree = TestVectors.treeOf(keys, values, SMALL);
        // Sinks and window lie in pruned subtrees and scanned leaves alike: both must have them taken out.
        SearchParams params = SearchParams.builder().k(4).beam(2).sinks(16).window(100).build();
        float[] queries = queries(3, 63);
        GroupRetrieval retrieval = new GroupRetrieval(DIM, DIM);
        tree.retrieve(queries, 0, 3, 0.35f, params, retrieval);

        assertEquals(3, retrieval.queries());
        double[] expected = new double[DIM];
        values.forEach(v -> addTo(expected, v, 1));
        for (int g = 0; g < 3; g++) {
            BitSet fine = new BitSet();
            double[] valueSum = new double[DIM];
            for (int i = 0; i < retrieval.fineCount(g); i++) {
                int position = retrieval.finePositions(g)[i];
                assertTrue(!fine.get(position), "query " + g + " retrieved position " + position + " twice");
                fine.set(position);
                addTo(valueSum, values.get(position), 1);
            }
            assertTrue(fine.nextClearBit(0) >= 16, "every sink is attended finely");
            assertEquals(100, fine.get(2900, 3000).cardinality(), "every window position is attended finely");
            assertTrue(retrieval.summaryCount(g) > 0, "a top-4 search over 3000 keys summarises most of them");
            int counted = fine.cardinality();
            for (int s = 0; s < retrieval.summaryCount(g); s++) {
                float count = retrieval.summaryCounts(g)[s];
                assertTrue(count >= 1, "summary " + s + " stands for " + count + " keys");
                counted += (int) count;
                addTo(valueSum, Arrays.copyOfRange(retrieval.summaryValueSums(g), s * DIM, (s + 1) * DIM), 1);
            }
            assertEquals(3000, counted, "query " + g + ": fine keys and summaries count every key once");
            for (int d = 0; d < DIM; d++) {
                assertEquals(expected[d], valueSum[d], 1e-2, "query " + g + ", value sum in dimension " + d);
            }
        }
    }

    @Test
    void eachFinePositionComesWithItsOwnKeyAndValue() {
        List<float[]> keys = TestVectors.clustered(3000, DIM, 10, 91);
        List<float[]> values = TestVectors.gaussian(3000, DIM, 92);
        AttentionTree tree = TestVectors.treeOf(keys, values, SMALL);
        // Sinks and window in pruned subtrees and in scanned leaves: fine rows copied from both, and from
        // the store when each query searches alone.
        SearchParams beam = SearchParams.builder().k(4).beam(2).sinks(16).window(100).build();
        SearchParams exact = beam.toBuilder().mode(SearchMode.EXACT).build();
        for (SearchParams params : List.of(beam, exact)) {
            GroupRetrieval retrieval = new GroupRetrieval(DIM, DIM);
            tree.retrieve(queries(2, 93), 0, 2, 0.35f, params, retrieval);
            for (int g = 0; g < 2; g++) {
                assertTrue(retrieval.fineCount(g) >= 116, "at least the 16 sinks and 100 window positions");
                for (int i = 0; i < retrieval.fineCount(g); i++) {
                    int position = retrieval.finePositions(g)[i];
                    assertArrayEquals(keys.get(position), Arrays.copyOfRange(retrieval.fineKeys(g), i * DIM, (i + 1) * DIM),
                            params.mode() + ", query " + g + ": key of position " + position);
                    assertArrayEquals(values.get(position),
                            Arrays.copyOfRange(retrieval.fineValues(g), i * DIM, (i + 1) * DIM),
                            params.mode() + ", query " + g + ": value of position " + position);
                }
            }
        }
    }

    @Test
    void aRetrievalReusedWhileTheTreeGrowsRetrievesWhatAFreshOneDoes() {
        // The reused retrieval keeps its working arrays and node marks between calls; the inserts and
        // splits in between must leave nothing of an earlier call in a later one.
        List<float[]> keys = TestVectors.clustered(4000, DIM, 12, 81);
        List<float[]> values = TestVectors.gaussian(4000, DIM, 82);
        AttentionTree tree = TestVectors.treeOf(keys.subList(0, 500), values.subList(0, 500), SMALL);
        SearchParams params = SearchParams.builder().k(4).beam(2).build();
        GroupRetrieval reused = new GroupRetrieval(DIM, DIM);
        for (int n = 500; n < 4000; n += 7) {
            float[] queries = queries(2, n);
            tree.retrieve(queries, 0, 2, 0.35f, params, reused);
            GroupRetrieval fresh = new GroupRetrieval(DIM, DIM);
            tree.retrieve(queries, 0, 2, 0.35f, params, fresh);
            for (int g = 0; g < 2; g++) {
                assertArrayEquals(Arrays.copyOf(fresh.finePositions(g), fresh.fineCount(g)),
                        Arrays.copyOf(reused.finePositions(g), reused.fineCount(g)), "fine positions at " + n + " keys");
                assertArrayEquals(Arrays.copyOf(fresh.summaryCounts(g), fresh.summaryCount(g)),
                        Arrays.copyOf(reused.summaryCounts(g), reused.summaryCount(g)), "summary counts at " + n + " keys");
                assertArrayEquals(Arrays.copyOf(fresh.summaryKeys(g), fresh.summaryCount(g) * DIM),
                        Arrays.copyOf(reused.summaryKeys(g), reused.summaryCount(g) * DIM), "summary keys at " + n + " keys");
            }
            for (int i = n; i < n + 7; i++) {
                tree.append(keys.get(i), values.get(i));
            }
        }
    }

    @Test
    void prunedSubtreesPastTheBudgetAreFoldedWithoutLosingAKey() {
        List<float[]> keys = TestVectors.clustered(3000, DIM, 10, 71);
        List<float[]> values = TestVectors.gaussian(3000, DIM, 72);
        AttentionTree tree = TestVectors.treeOf(keys, values, SMALL);
        // A wide beam over a deep tree prunes far more subtrees than the budget.
        SearchParams params = SearchParams.builder().k(4).beam(24).sinks(0).window(0).build();
        float[] queries = queries(2, 73);
        GroupRetrieval retrieval = new GroupRetrieval(DIM, DIM);
        tree.retrieve(queries, 0, 2, 0.35f, params, retrieval);

        double[] expected = new double[DIM];
        values.forEach(v -> addTo(expected, v, 1));
        for (int g = 0; g < 2; g++) {
            int scannedLeavesAtMost = params.beam() * TreeSearcher.CODED_LEAF_WIDENING;
            assertTrue(retrieval.summaryCount(g) <= GroupRetriever.PRUNED_SUMMARY_BUDGET + scannedLeavesAtMost,
                    "query " + g + " has " + retrieval.summaryCount(g) + " summaries");
            double[] valueSum = new double[DIM];
            int counted = retrieval.fineCount(g);
            for (int i = 0; i < retrieval.fineCount(g); i++) {
                addTo(valueSum, values.get(retrieval.finePositions(g)[i]), 1);
            }
            for (int s = 0; s < retrieval.summaryCount(g); s++) {
                counted += (int) retrieval.summaryCounts(g)[s];
                addTo(valueSum, Arrays.copyOfRange(retrieval.summaryValueSums(g), s * DIM, (s + 1) * DIM), 1);
            }
            assertEquals(3000, counted, "query " + g + ": fine keys and summaries count every key once");
            for (int d = 0; d < DIM; d++) {
                assertEquals(expected[d], valueSum[d], 1e-2, "query " + g + ", value sum in dimension " + d);
            }
        }
    }

    @Test
    void aBeamOverEveryLeafGivesEachQueryItsOwnExactTopKAndExactSoftmaxMass() {
        List<float[]> keys = TestVectors.gaussian(2000, DIM, 64);
        AttentionTree tree = TestVectors.treeOf(keys, TestVectors.gaussian(2000, DIM, 65), SMALL);
        SearchParams params = SearchParams.builder().k(8).beam(5000).sinks(0).window(0).build();
        float scale = 0.5f;
        float[] queries = queries(2, 66);
        GroupRetrieval retrieval = new GroupRetrieval(DIM, DIM);
        tree.retrieve(queries, 0, 2, scale, params, retrieval);

        for (int g = 0; g < 2; g++) {
            float[] query = Arrays.copyOfRange(queries, g * DIM, (g + 1) * DIM);
            long[] top = BruteForce.topK(keys, query, 8);
            int[] fine = Arrays.copyOf(retrieval.finePositions(g), retrieval.fineCount(g));
            assertArrayEquals(Arrays.stream(top).mapToInt(p -> (int) p).sorted().toArray(), Arrays.stream(fine).sorted().toArray(),
                    "query " + g + " gets its own exact top-8");
            double exact = 0;
            for (float[] key : keys) {
                exact += Math.exp(scale * BruteForce.dot(query, key));
            }
            double retrieved = 0;
            for (int position : fine) {
                retrieved += Math.exp(scale * BruteForce.dot(query, keys.get(position)));
            }
            float[] summaryKeys = retrieval.summaryKeys(g);
            for (int s = 0; s < retrieval.summaryCount(g); s++) {
                float[] key = Arrays.copyOfRange(summaryKeys, s * DIM, (s + 1) * DIM);
                retrieved += retrieval.summaryCounts(g)[s] * Math.exp(scale * BruteForce.dot(query, key));
            }
            // Leaves are scored exactly, so the remainders carry their keys' mass to float precision.
            assertEquals(1, retrieved / exact, 1e-4, "query " + g + ": softmax normaliser vs every key");
        }
    }

    @Test
    void withKAtLeastNEveryPositionIsFineForEveryQuery() {
        List<float[]> keys = TestVectors.clustered(300, DIM, 5, 67);
        AttentionTree tree = TestVectors.treeOf(keys, TestVectors.gaussian(300, DIM, 68), SMALL);
        GroupRetrieval retrieval = new GroupRetrieval(DIM, DIM);
        tree.retrieve(queries(2, 69), 0, 2, 0.35f, SearchParams.builder().k(300).beam(1).build(), retrieval);
        for (int g = 0; g < 2; g++) {
            assertEquals(300, retrieval.fineCount(g));
            assertEquals(0, retrieval.summaryCount(g));
        }
    }

    @Test
    void exactModeRetrievesWhatEachQueryRetrievesAlone() {
        List<float[]> keys = TestVectors.clustered(1500, DIM, 8, 70);
        AttentionTree tree = TestVectors.treeOf(keys, TestVectors.gaussian(1500, DIM, 71), SMALL);
        SearchParams params = SearchParams.builder().mode(SearchMode.EXACT).k(6).sinks(2).window(10).build();
        float[] queries = queries(2, 72);
        GroupRetrieval retrieval = new GroupRetrieval(DIM, DIM);
        // Reused buffers: a second, different retrieval overwrites the first.
        tree.retrieve(queries(2, 73), 0, 2, 0.35f, SearchParams.builder().k(3).build(), retrieval);
        tree.retrieve(queries, 0, 2, 0.35f, params, retrieval);
        for (int g = 0; g < 2; g++) {
            TreeRetrieval alone = tree.retrieve(Arrays.copyOfRange(queries, g * DIM, (g + 1) * DIM), 0.35f, params);
            assertArrayEquals(alone.positions(), Arrays.copyOf(retrieval.finePositions(g), retrieval.fineCount(g)));
            assertEquals(alone.summaries().size(), retrieval.summaryCount(g));
        }
    }

    @Test
    void queriesOutsideTheArrayOrOfTheWrongDimensionAreRejected() {
        AttentionTree tree = TestVectors.treeOf(TestVectors.gaussian(50, DIM, 74), TestVectors.gaussian(50, DIM, 75), SMALL);
        SearchParams params = SearchParams.defaults();
        IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                () -> tree.retrieve(new float[2 * DIM], DIM, 2, 0.35f, params, new GroupRetrieval(DIM, DIM)));
        assertTrue(outside.getMessage().contains("do not fit"), outside.getMessage());
        IllegalArgumentException dims = assertThrows(IllegalArgumentException.class,
                () -> tree.retrieve(new float[2 * DIM], 0, 2, 0.35f, params, new GroupRetrieval(4, DIM)));
        assertTrue(dims.getMessage().contains("keys of dim 4"), dims.getMessage());
        float[] nan = new float[DIM];
        nan[3] = Float.NaN;
        assertThrows(IllegalArgumentException.class,
                () -> tree.retrieve(nan, 0, 1, 0.35f, params, new GroupRetrieval(DIM, DIM)));
    }

    private static float[] queries(int count, long seed) {
        float[] flat = new float[count * DIM];
        List<float[]> queries = TestVectors.gaussian(count, DIM, seed);
        for (int g = 0; g < count; g++) {
            System.arraycopy(queries.get(g), 0, flat, g * DIM, DIM);
        }
        return flat;
    }

    private static void addTo(double[] sum, float[] value, double weight) {
        for (int d = 0; d < sum.length; d++) {
            sum[d] += weight * value[d];
        }
    }
}
