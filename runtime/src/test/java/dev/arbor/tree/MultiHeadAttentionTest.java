package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MultiHeadAttentionTest {
    private static final TreeSettings SMALL = TreeSettings.builder().leafCapacity(8).fanout(4).build();

    @Test
    void eachHeadOnTwoThreadsGetsWhatItsOwnTreeGivesAndFullAttentionWhenKCoversAll() throws Exception {
        int heads = 5;
        List<AttentionTree> trees = new ArrayList<>();
        List<List<float[]>> keys = new ArrayList<>();
        List<List<float[]>> values = new ArrayList<>();
        for (int h = 0; h < heads; h++) {
            keys.add(TestVectors.clustered(600, 16, 6, 50 + h));
            values.add(TestVectors.gaussian(600, 12, 60 + h));
            trees.add(TestVectors.treeOf(keys.get(h), values.get(h), SMALL));
        }
        float[][] queries = TestVectors.clustered(heads, 16, 6, 70).toArray(float[][]::new);
        float scale = 0.25f;
        ExecutorService executor = Executors.newFixedThreadPool(1);
        try {
            MultiHeadAttention parallel = MultiHeadAttention.builder().trees(trees).executor(executor, 2).build();
            SearchParams approximate = SearchParams.builder().k(8).beam(2).build();
            AttentionResult[] results = parallel.attend(queries, scale, approximate);
            for (int h = 0; h < heads; h++) {
                AttentionResult alone = trees.get(h).attend(queries[h], scale, approximate);
                // Up to rounding: the JIT may compile the SIMD exp between the two calls.
                assertTrue(BruteForce.maxAbsDiff(alone.output(), results[h].output()) <= 1e-6, "head " + h);
                assertArrayEquals(alone.positions(), results[h].positions(), "head " + h);
            }
            AttentionResult[] full = parallel.attend(queries, scale, SearchParams.builder().k(600).build());
            for (int h = 0; h < heads; h++) {
                float[] expected = BruteForce.attention(keys.get(h), values.get(h), queries[h], scale);
                assertTrue(BruteForce.maxAbsDiff(expected, full[h].output()) <= 1e-5, "head " + h);
            }
        } finally {
            executor.shutdown();
        }
    }

    @Test
    void aWorkerThatStartsLateStillLeavesEveryHeadAttendedAsItsOwnTreeWould() {
        // The executor's worker starts 200 ms late: by then the calling thread has taken every head, so
        // the late worker must find none left and take none twice.
        int heads = 4;
        List<AttentionTree> trees = new ArrayList<>();
        for (int h = 0; h < heads; h++) {
            trees.add(TestVectors.treeOf(TestVectors.clustered(400, 8, 4, 90 + h), TestVectors.gaussian(400, 8, 95 + h),
                    SMALL));
        }
        float[][] queries = TestVectors.clustered(heads, 8, 4, 99).toArray(float[][]::new);
        Executor late = CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS);
        MultiHeadAttention attention = MultiHeadAttention.builder().trees(trees).executor(late, 3).build();
        SearchParams params = SearchParams.builder().k(8).beam(2).build();
        AttentionResult[] results = attention.attend(queries, 0.5f, params);
        for (int h = 0; h < heads; h++) {
            AttentionResult alone = trees.get(h).attend(queries[h], 0.5f, params);
            assertTrue(BruteForce.maxAbsDiff(alone.output(), results[h].output()) <= 1e-6, "head " + h);
            assertArrayEquals(alone.positions(), results[h].positions(), "head " + h);
        }
    }

    @Test
    void wrongNumberOfQueriesAndMissingExecutorAreRejected() {
        List<AttentionTree> trees = List.of(TestVectors.treeOf(TestVectors.gaussian(50, 8, 80),
                TestVectors.gaussian(50, 8, 81), SMALL));
        MultiHeadAttention attention = MultiHeadAttention.builder().trees(trees).build();
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                () -> attention.attend(new float[2][8], 1f, SearchParams.defaults()));
        assertTrue(wrong.getMessage().contains("one query per head (1), got 2"), wrong.getMessage());
        IllegalArgumentException noExecutor = assertThrows(IllegalArgumentException.class,
                () -> MultiHeadAttention.builder().trees(trees).executor(null, 2).build());
        assertTrue(noExecutor.getMessage().contains("needs an executor"), noExecutor.getMessage());
        assertEquals(1, attention.heads());
    }
}
