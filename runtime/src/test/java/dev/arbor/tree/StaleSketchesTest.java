package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Appends leave node sketches stale and the first search after them rewrites them: whenever a search
 * runs, on one thread or several at once, every sketch must be what its node's sums give now.
 */
class StaleSketchesTest {
    /** Small nodes, so a few thousand keys split leaves and internal nodes many times. */
    private static final TreeSettings SMALL = TreeSettings.builder().leafCapacity(16).fanout(4).build();
    private static final SearchParams APPROXIMATE = SearchParams.builder().k(16).beam(4).sinks(0).window(0).build();

    @Test
    void wideKeysSearchedBetweenAppendsFindEverySketchUpToDate() {
        // Dim 192 fits principal directions, and an internal node's fit reads its children's sketches.
        List<float[]> keys = TestVectors.clustered(2500, 192, 12, 31);
        List<float[]> queries = TestVectors.clustered(4, 192, 12, 32);
        AttentionTree tree = AttentionTree.builder().keyDim(192).valueDim(192).settings(SMALL).build();
        for (int i = 0; i < keys.size(); i++) {
            tree.append(keys.get(i), keys.get(i));
            if (i % 333 == 332) {
                assertFalse(sketchesMatchSums(tree.nodes()), "appends should leave the sketches to the next search");
                tree.search(queries.get(i % queries.size()), APPROXIMATE);
                assertSketchesUpToDate(tree.nodes());
            }
        }
        tree.attend(queries.get(0), 0.125f, APPROXIMATE);
        assertSketchesUpToDate(tree.nodes());
    }

    @Test
    void searchesStartedTogetherAfterAppendsAnswerAsOneSearchAfterThem() throws Exception {
        List<float[]> keys = TestVectors.clustered(3000, 64, 10, 33);
        List<float[]> queries = TestVectors.clustered(8, 64, 10, 34);
        AttentionTree tree = AttentionTree.builder().keyDim(64).valueDim(64).settings(SMALL).build();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int batch = 0; batch < 3; batch++) {
                for (int i = batch * 1000; i < (batch + 1) * 1000; i++) {
                    tree.append(keys.get(i), keys.get(i));
                }
                List<Future<SearchResult>> found = new ArrayList<>();
                for (float[] query : queries) {
                    found.add(pool.submit(() -> tree.search(query, APPROXIMATE)));
                }
                for (int q = 0; q < queries.size(); q++) {
                    assertArrayEquals(tree.search(queries.get(q), APPROXIMATE).positions(), found.get(q).get().positions());
                }
                assertSketchesUpToDate(tree.nodes());
            }
        } finally {
            pool.shutdown();
        }
    }

    /** Every node's sketch and its scales are what rewriting them from the node's sums gives. */
    private static void assertSketchesUpToDate(TreeNodes nodes) {
        assertTrue(sketchesMatchSums(nodes), "a search should find every sketch rewritten");
    }

    /** Whether rewriting every sketch from its node's sums would leave them all as they are (they are left as they were). */
    private static boolean sketchesMatchSums(TreeNodes nodes) {
        byte[] sketches = Arrays.copyOf(nodes.sketches, nodes.sketches.length);
        float[] scales = Arrays.copyOf(nodes.sketchScales, nodes.sketchScales.length);
        for (int node = 0; node < nodes.count; node++) {
            nodes.refreshSketch(node);
        }
        boolean match = Arrays.equals(sketches, nodes.sketches) && Arrays.equals(scales, nodes.sketchScales);
        System.arraycopy(sketches, 0, nodes.sketches, 0, sketches.length);
        System.arraycopy(scales, 0, nodes.sketchScales, 0, scales.length);
        return match;
    }
}
