package dev.arbor.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.onnx.TensorData;
import dev.arbor.ops.SearchStep.SearchResult;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A two-level descent run entirely through ai.arbor.BoundedSearchStep and ai.arbor.SearchStep, with the
 * thin Java loop the ops are designed for: rank blocks by their upper bound, expand the best ones into
 * their keys, scan those. Checks that the bound is a true bound and that when the k-th score beats the
 * bound of every block left unexpanded, the result is the exact brute-force top-k.
 */
class DescentThroughOpsTest {
    private static final int HEADS = 4;
    private static final int DIM = 16;
    private static final int CLUSTERS = 8;
    private static final int BLOCK = 32;
    private static final int BLOCKS = 64;
    private static final int KEYS = BLOCK * BLOCKS;
    private static final int EXPANDED = 8;
    private static final int K = 10;

    @Test
    void boundedBlocksThenLeafScanIsExactWhenTheCertificateHolds() throws Exception {
        Random random = new Random(41);
        float[] centres = TestData.gaussian(random, CLUSTERS * DIM);
        for (int i = 0; i < centres.length; i++) {
            centres[i] *= 4;
        }
        // Keys grouped by cluster, so each block of 32 consecutive keys is tight around one centre.
        float[] keys = new float[KEYS * DIM];
        for (int key = 0; key < KEYS; key++) {
            int cluster = key * CLUSTERS / KEYS;
            for (int e = 0; e < DIM; e++) {
                keys[key * DIM + e] = centres[cluster * DIM + e] + (float) random.nextGaussian() * 0.5f;
            }
        }
        float[] centroids = new float[BLOCKS * DIM];
        float[] radii = new float[BLOCKS];
        for (int b = 0; b < BLOCKS; b++) {
            for (int key = b * BLOCK; key < (b + 1) * BLOCK; key++) {
                for (int e = 0; e < DIM; e++) {
                    centroids[b * DIM + e] += keys[key * DIM + e] / BLOCK;
                }
            }
            for (int key = b * BLOCK; key < (b + 1) * BLOCK; key++) {
                double squared = 0;
                for (int e = 0; e < DIM; e++) {
                    double diff = keys[key * DIM + e] - centroids[b * DIM + e];
                    squared += diff * diff;
                }
                radii[b] = (float) Math.max(radii[b], Math.sqrt(squared) * (1 + 1e-6));
            }
        }
        float[] queries = new float[HEADS * DIM];
        for (int h = 0; h < HEADS; h++) {
            for (int e = 0; e < DIM; e++) {
                queries[h * DIM + e] = centres[(h * 3 % CLUSTERS) * DIM + e] + (float) random.nextGaussian();
            }
        }
        long[] allBlocks = new long[HEADS * BLOCKS];
        for (int i = 0; i < allBlocks.length; i++) {
            allBlocks[i] = i % BLOCKS;
        }

        try (SearchStep search = SearchStep.open(new SessionFactory(SessionSettings.builder().intraOpThreads(1).build()))) {
            TensorData q = TensorData.floats("q", queries, HEADS, DIM);
            SearchResult level = search.run(q, TensorData.floats("c", TestData.direct(centroids), BLOCKS, DIM),
                    TensorData.longs("b", allBlocks, HEADS, BLOCKS), TensorData.floats("r", radii, BLOCKS), BLOCKS);

            for (int h = 0; h < HEADS; h++) {
                for (int rank = 0; rank < BLOCKS; rank++) {
                    int block = (int) level.id(h, rank);
                    for (int key = block * BLOCK; key < (block + 1) * BLOCK; key++) {
                        double score = ReferenceOps.dot(queries, h * DIM, keys, key * DIM, DIM);
                        assertTrue(score <= level.score(h, rank) + 1e-4, "bound of block " + block + " for head " + h);
                    }
                }
            }

            // The thin Java step between levels: expand the kept blocks into their key ids.
            long[] leafCandidates = new long[HEADS * EXPANDED * BLOCK];
            for (int h = 0; h < HEADS; h++) {
                for (int rank = 0; rank < EXPANDED; rank++) {
                    long first = level.id(h, rank) * BLOCK;
                    for (int i = 0; i < BLOCK; i++) {
                        leafCandidates[(h * EXPANDED + rank) * BLOCK + i] = first + i;
                    }
                }
            }
            SearchResult leaves = search.run(q, TensorData.floats("k", TestData.direct(keys), KEYS, DIM),
                    TensorData.longs("l", leafCandidates, HEADS, EXPANDED * BLOCK), null, K);

            long[] everyKey = new long[HEADS * KEYS];
            for (int i = 0; i < everyKey.length; i++) {
                everyKey[i] = i % KEYS;
            }
            long[] bruteForce = ReferenceOps.searchStep(queries, keys, everyKey, null, HEADS, DIM, K);
            int certified = 0;
            for (int h = 0; h < HEADS; h++) {
                boolean exact = leaves.score(h, K - 1) >= level.score(h, EXPANDED);
                if (exact) {
                    certified++;
                    assertArrayEquals(java.util.Arrays.copyOfRange(bruteForce, h * K, (h + 1) * K), leaves.idsOf(h),
                            "certified head " + h + " must equal brute force");
                }
            }
            assertEquals(HEADS, certified, "tight clustered blocks should certify every head");
        }
    }
}
