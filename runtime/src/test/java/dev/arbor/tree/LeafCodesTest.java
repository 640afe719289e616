package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LeafCodesTest {
    @Test
    void codeScoresStayWithinTheQuantisationBoundOfTheExactDot() {
        List<float[]> keys = TestVectors.clustered(500, 64, 8, 31);
        float[] query = TestVectors.gaussian(1, 64, 32).get(0);
        LeafCodes codes = new LeafCodes(64, keys.size());
        for (int i = 0; i < keys.size(); i++) {
            codes.set(0, i, keys.get(i), 0);
        }
        float[] scores = new float[keys.size()];
        codes.score(query, 0, keys.size(), scores);
        double queryL1 = 0;
        for (float q : query) {
            queryL1 += Math.abs(q);
        }
        for (int i = 0; i < keys.size(); i++) {
            float largest = 0;
            for (float x : keys.get(i)) {
                largest = Math.max(largest, Math.abs(x));
            }
            double bound = queryL1 * largest / 127 / 2 + 1e-4;
            assertEquals(BruteForce.dot(query, keys.get(i)), scores[i], bound, "key " + i);
        }
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
                // Reported scores are exact dot products (reranked from the store), never code scores.
                assertEquals(BruteForce.dot(query, keys.get((int) result.positions()[i])), result.scores()[i], 1e-4);
            }
        }
        assertTrue(found >= 0.95 * 10 * queries.size(), "recall " + found / (10.0 * queries.size()));
    }
}
