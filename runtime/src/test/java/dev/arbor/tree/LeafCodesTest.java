package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LeafCodesTest {
    @Test
    void codesFittedToALeafStayWithinHalfAGridStepOfEveryKey() {
        List<float[]> keys = TestVectors.clustered(60, 64, 1, 31);
        float[] query = TestVectors.gaussian(1, 64, 32).get(0);
        LeafCodes codes = new LeafCodes(64);
        codes.rewrite(0, rows(keys), keys.size());
        float[] scores = new float[keys.size()];
        codes.score(query, 0, keys.size(), scores);
        double bound = quantisationBound(codes, query, 1) + 1e-3;
        for (int i = 0; i < keys.size(); i++) {
            assertEquals(BruteForce.dot(query, keys.get(i)), scores[i], bound, "key " + i);
        }
    }

    @Test
    void appendedKeysOutsideTheGridWidenItAndEveryCodeStaysWithinTheBound() {
        // Keys arrive one by one, from tight to wide, so the grid widens many times.
        List<float[]> keys = TestVectors.gaussian(64, 64, 35);
        for (int i = 0; i < keys.size(); i++) {
            for (int d = 0; d < 64; d++) {
                keys.get(i)[d] *= 0.1f + 0.05f * i;
            }
        }
        LeafCodes codes = new LeafCodes(64);
        for (int i = 0; i < keys.size(); i++) {
            codes.append(0, i, keys.get(i), 0);
        }
        for (float[] query : TestVectors.gaussian(5, 64, 36)) {
            float[] scores = new float[keys.size()];
            codes.score(query, 0, keys.size(), scores);
            // Re-levelling adds at most half a step per widening, and each widening grows the step by a
            // quarter at least: the error stays below 2.5 of the final steps.
            double bound = quantisationBound(codes, query, 5) + 1e-3;
            double squaredError = 0;
            for (int i = 0; i < keys.size(); i++) {
                double error = scores[i] - BruteForce.dot(query, keys.get(i));
                assertTrue(Math.abs(error) <= bound, "key " + i + " error " + error + " bound " + bound);
                squaredError += error * error;
            }
            // Typical errors are far below the worst case.
            assertTrue(Math.sqrt(squaredError / keys.size()) < quantisationBound(codes, query, 1),
                    "rms error " + Math.sqrt(squaredError / keys.size()));
        }
    }

    @Test
    void oddDimensionsAndDuplicateKeysCodeExactlyWhereTheGridIsAPoint() {
        float[] key = {1.5f, -2f, 0f, 3.25f, 7f};
        LeafCodes codes = new LeafCodes(5);
        for (int i = 0; i < 3; i++) {
            codes.append(0, i, key, 0);
        }
        float[] query = {0.5f, 1f, -1f, 2f, -0.25f};
        float[] scores = new float[3];
        codes.score(query, 0, 3, scores);
        for (float score : scores) {
            assertEquals(BruteForce.dot(query, key), score, 1e-5);
        }
    }

    @Test
    void codeBytesFollowTheLeafsFillNotItsCapacity() {
        LeafCodes codes = new LeafCodes(64);
        List<float[]> keys = TestVectors.gaussian(LeafCodes.GROWTH + 1, 64, 37);
        codes.append(0, 0, keys.get(0), 0);
        long one = codes.bytes();
        for (int i = 1; i < LeafCodes.GROWTH; i++) {
            codes.append(0, i, keys.get(i), 0);
        }
        assertEquals(one, codes.bytes(), "a leaf's first " + LeafCodes.GROWTH + " keys share one allocation");
        codes.append(0, LeafCodes.GROWTH, keys.get(LeafCodes.GROWTH), 0);
        assertEquals(one + LeafCodes.GROWTH * 32L, codes.bytes(), "then it grows by " + LeafCodes.GROWTH + " keys");
    }

    private static float[] rows(List<float[]> keys) {
        float[] rows = new float[keys.size() * keys.get(0).length];
        for (int i = 0; i < keys.size(); i++) {
            System.arraycopy(keys.get(i), 0, rows, i * keys.get(i).length, keys.get(i).length);
        }
        return rows;
    }

    /** Σ_d |q_d| · halfSteps · (half a grid step of leaf 0 in d). */
    private static double quantisationBound(LeafCodes codes, float[] query, double halfSteps) {
        double bound = 0;
        for (int d = 0; d < query.length; d++) {
            bound += Math.abs(query[d]) * codes.halfStep(0, d) * halfSteps;
        }
        return bound;
    }

    @Test
    void approximateSearchThroughCodesFollowsLeafSplitsAndFindsTheBruteForceTopK() {
        TreeSettings small = TreeSettings.builder().leafCapacity(16).fanout(4).build();
        List<float[]> keys = TestVectors.clustered(4000, 32, 12, 33);
        AttentionTree tree = TestVectors.treeOf(keys, keys, small);
        SearchParams approximate = SearchParams.builder().k(10).beam(32).sinks(0).window(0).build();
        int found = 0;
        List<float[]> queries = TestVectors.clustered(20, 32, 12, 34);
        for (float[] query : queries) {
            long[] expected = BruteForce.topK(keys, query, 10);
            SearchResult result = tree.search(query, approximate);
            found += TreeSearcherTest.overlap(expected, result.positions());
            for (int i = 0; i < result.size(); i++) {
                // Reported scores are exact dot products (reranked from the store), never code scores: equal
                // up to float rounding, which grows with the score and with the SIMD width's summation order
                // (on an AVX-512 machine a score of 259.4 came out 1.2e-4 off the sequential sum).
                float exact = BruteForce.dot(query, keys.get((int) result.positions()[i]));
                assertEquals(exact, result.scores()[i], Math.max(1e-4, 1e-6 * Math.abs(exact)));
            }
        }
        assertTrue(found >= 0.95 * 10 * queries.size(), "recall " + found / (10.0 * queries.size()));
    }
}
