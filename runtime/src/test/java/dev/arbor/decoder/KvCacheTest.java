package dev.arbor.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.tree.HeadWorkers;
import dev.arbor.tree.SearchParams;
import dev.arbor.tree.TreeSettings;
import java.nio.FloatBuffer;
import java.util.Random;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/** The trees of a {@link KvCache} hold out its sinks and window; attention takes those whole. */
class KvCacheTest {
    private static final int KV_HEADS = 2;
    private static final int HEAD_SIZE = 8;

    @Test
    void theTreesHoldEveryPositionPastTheSinksOnceItLeavesTheWindow() {
        KvCache cache = cache(4, 16);
        append(cache, 100, 1);
        for (int h = 0; h < KV_HEADS; h++) {
            assertEquals(80, cache.tree(h).size(), "kv head " + h + " holds positions 4 .. 84");
        }
        assertArrayEquals(new int[] {0, 4, 84, 100}, cache.heldOut());
        assertEquals(4, cache.cachePosition(0));
        assertEquals(83, cache.cachePosition(79));
        append(cache, 1, 2);
        assertEquals(81, cache.tree(0).size());
        assertArrayEquals(new int[] {0, 4, 85, 101}, cache.heldOut());
    }

    @Test
    void insertsOnAWorkerAreInTheTreesBeforeTheTreesAreRead() {
        // A worker that starts each insert 100 ms late: a read that did not wait would find the trees short.
        Executor late = task -> Thread.ofPlatform().daemon().start(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            task.run();
        });
        HeadWorkers workers = HeadWorkers.on(late, 2);
        KvCache cache = cache(4, 16);
        append(cache, 100, 1, workers);
        assertArrayEquals(new int[] {0, 4, 84, 100}, cache.heldOut(), "held out as soon as appended");
        for (int h = 0; h < KV_HEADS; h++) {
            assertEquals(80, cache.tree(h).size(), "kv head " + h);
        }
        append(cache, 1, 2, workers);
        append(cache, 1, 3, workers);
        cache.awaitInserts();
        assertEquals(82, cache.tree(0).size());
        assertEquals(82, cache.tree(1).size());
    }

    @Test
    void aKeyTheTreesRejectFailsTheNextReadOfTheTrees() {
        KvCache cache = cache(0, 0);
        float[] keys = new float[KV_HEADS * HEAD_SIZE];
        keys[3] = Float.NaN;
        HeadWorkers workers = HeadWorkers.on(task -> Thread.ofPlatform().daemon().start(task), 2);
        cache.append(FloatBuffer.wrap(keys), FloatBuffer.wrap(new float[keys.length]), workers);
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> cache.tree(0));
        assertTrue(thrown.getMessage().contains("non-finite"), thrown.getMessage());
    }

    @Test
    void aContextShorterThanSinksAndWindowIsHeldOutWhole() {
        KvCache cache = cache(4, 16);
        append(cache, 3, 3);
        assertEquals(0, cache.tree(0).size());
        assertArrayEquals(new int[] {0, 3, 4, 3}, cache.heldOut(), "the second range is empty");
        append(cache, 10, 4);
        assertEquals(0, cache.tree(0).size());
        assertArrayEquals(new int[] {0, 4, 4, 13}, cache.heldOut());
    }

    @Test
    void theTreesAreAskedOnlyForTheSinksAndWindowBeyondTheHeldOutOnes() {
        KvCache cache = cache(4, 64);
        SearchParams same = SearchParams.builder().k(32).beam(8).sinks(4).window(64).build();
        assertEquals(0, cache.treeParams(same).sinks());
        assertEquals(0, cache.treeParams(same).window());
        SearchParams wider = same.toBuilder().sinks(6).window(100).build();
        assertEquals(2, cache.treeParams(wider).sinks());
        assertEquals(36, cache.treeParams(wider).window());
        assertEquals(32, cache.treeParams(wider).k());
        SearchParams none = same.toBuilder().sinks(0).window(0).build();
        assertSame(none, cache(0, 0).treeParams(none), "nothing held out: the search is asked as given");
    }

    @Test
    void negativeHeldOutCountsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> cache(-1, 4));
        assertThrows(IllegalArgumentException.class, () -> cache(4, -1));
    }

    private static KvCache cache(int sinks, int window) {
        return new KvCache(KV_HEADS, HEAD_SIZE, TreeSettings.builder().leafCapacity(8).fanout(4).build(), 16, sinks, window);
    }

    private static void append(KvCache cache, int positions, long seed) {
        append(cache, positions, seed, HeadWorkers.callingThread());
    }

    private static void append(KvCache cache, int positions, long seed, HeadWorkers workers) {
        Random random = new Random(seed);
        float[] keys = new float[positions * KV_HEADS * HEAD_SIZE];
        float[] values = new float[keys.length];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (float) random.nextGaussian();
            values[i] = (float) random.nextGaussian();
        }
        cache.append(FloatBuffer.wrap(keys), FloatBuffer.wrap(values), workers);
    }
}
