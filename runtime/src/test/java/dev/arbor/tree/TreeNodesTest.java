package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TreeNodesTest {
    private static final int DIM = 64;

    @Test
    void sketchPromiseStaysWithinItsQuantisationBoundOfTheExactMeanPlusSpread() {
        // Keys with one massive dimension, as real keys have, so the mean's int8 scale is coarse.
        List<float[]> keys = TestVectors.clustered(300, DIM, 3, 41);
        for (float[] key : keys) {
            key[5] += 40;
        }
        TreeNodes nodes = new TreeNodes(DIM, DIM, PrincipalDirections.COUNT);
        int node = nodes.newNode(0, 8);
        for (float[] key : keys) {
            nodes.addKey(node, key, 0, key);
        }
        nodes.refreshSketch(node);
        float meanScale = nodes.sketchScales[0];
        float spreadScale = nodes.sketchScales[1];
        for (float[] query : TestVectors.gaussian(20, DIM, 42)) {
            double[] mean = new double[DIM];
            double[] squares = new double[DIM];
            for (float[] key : keys) {
                for (int d = 0; d < DIM; d++) {
                    mean[d] += key[d] / (double) keys.size();
                    squares[d] += key[d] * (double) key[d] / keys.size();
                }
            }
            double meanScore = 0;
            double variance = 0;
            double queryL1 = 0;
            double queryL2 = 0;
            for (int d = 0; d < DIM; d++) {
                meanScore += query[d] * mean[d];
                variance += query[d] * query[d] * Math.max(0, squares[d] - mean[d] * mean[d]);
                queryL1 += Math.abs(query[d]);
                queryL2 += query[d] * query[d];
            }
            double expected = meanScore + 2 * Math.sqrt(variance);
            double bound = queryL1 * meanScale / 2 + 2 * Math.sqrt(queryL2) * spreadScale / 2
                    + 1e-3 * Math.abs(expected);
            float[] means = new float[1];
            float[] spreads = new float[1];
            nodes.moments(query, node, means, spreads, 0);
            float promise = means[0] + 2 * spreads[0];
            assertEquals(expected, promise, bound);
            // The worst case is loose; in practice rounding errors cancel and the sketch ranks nodes
            // about as finely as the exact sums.
            assertTrue(Math.abs(promise - expected) < 0.1 * Math.sqrt(variance),
                    "sketch error " + (promise - expected) + " against a spread of " + Math.sqrt(variance));
        }
    }

    @Test
    void leafMemberArraysGrowWithTheFillInSmallSteps() {
        TreeNodes nodes = new TreeNodes(4, 4, PrincipalDirections.COUNT);
        int leaf = nodes.newNode(0, LeafCodes.GROWTH);
        for (int i = 0; i < LeafCodes.GROWTH * 2 + 1; i++) {
            nodes.addMember(leaf, i);
        }
        assertEquals(LeafCodes.GROWTH * 3, nodes.members[leaf].length);
        for (int i = 0; i < nodes.memberCount[leaf]; i++) {
            assertEquals(i, nodes.members[leaf][i]);
        }
    }
}
