package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

class PrincipalDirectionsTest {
    private static final int DIM = 48;
    private static final int COUNT = 120;

    @Test
    void findsPlantedDirectionsOfLargestVarianceAsAnOrthonormalSet() {
        float[] first = unit(new SplittableRandom(1));
        float[] second = orthogonalTo(first, unit(new SplittableRandom(2)));
        float[] keys = correlatedKeys(first, second, new SplittableRandom(3));

        float[][] directions = new PrincipalDirections(DIM).of(keys, COUNT);

        assertEquals(PrincipalDirections.COUNT, directions.length);
        // A finite sample tilts its principal axes within the planted plane; the plane itself is found.
        for (float[] planted : List.of(first, second)) {
            double inPlane = 0;
            for (int r = 0; r < 2; r++) {
                float overlap = Dot.dot(directions[r], 0, planted, 0, DIM);
                inPlane += overlap * overlap;
            }
            assertTrue(inPlane > 0.99, "the two directions span the planted ones: " + inPlane);
        }
        assertTrue(trueVariance(keys, directions[0]) > trueVariance(keys, directions[1]), "largest first");
        assertTrue(Math.abs(Dot.dot(directions[0], 0, first, 0, DIM)) > 0.95, "first direction found");
        for (int r = 0; r < directions.length; r++) {
            assertEquals(1, Dot.dot(directions[r], 0, directions[r], 0, DIM), 1e-4);
            for (int s = 0; s < r; s++) {
                assertEquals(0, Dot.dot(directions[r], 0, directions[s], 0, DIM), 1e-4);
            }
        }
    }

    @Test
    void spreadWithDirectionsFollowsTheTrueSpreadOfScoresWhereIndependentDimensionsDoNot() {
        float[] first = unit(new SplittableRandom(4));
        float[] second = orthogonalTo(first, unit(new SplittableRandom(5)));
        float[] keys = correlatedKeys(first, second, new SplittableRandom(6));
        TreeNodes plain = new TreeNodes(DIM, DIM, PrincipalDirections.COUNT);
        TreeNodes directed = new TreeNodes(DIM, DIM, PrincipalDirections.COUNT);
        int plainNode = plain.newNode(0, 8);
        int directedNode = directed.newNode(0, 8);
        // Half the keys before the directions are set and half after: the projections must follow both.
        float[] value = new float[DIM];
        for (int i = 0; i < COUNT; i++) {
            plain.addKey(plainNode, keys, i * DIM, value);
            if (i == COUNT / 2) {
                directed.fitDirections(directedNode, keys, COUNT / 2);
            }
            directed.addKey(directedNode, keys, i * DIM, value);
        }
        plain.refreshSketch(plainNode);
        directed.refreshSketch(directedNode);

        List<float[]> queries = TestVectors.gaussian(30, DIM, 7);
        for (float[] query : queries) {
            float plainMean = moments(plain, plainNode, query)[0];
            assertEquals(plainMean, moments(directed, directedNode, query)[0], 1e-3 * Math.abs(plainMean) + 1e-3,
                    "directions leave the mean alone");
        }
        double plainError = meanRelativeError(keys, queries, query -> moments(plain, plainNode, query)[1]);
        double directedError = meanRelativeError(keys, queries, query -> moments(directed, directedNode, query)[1]);
        assertTrue(directedError < 0.1, "spread with directions is off by " + directedError + " on average");
        assertTrue(directedError < plainError / 3,
                "directions " + directedError + " against independent dimensions " + plainError);
    }

    @Test
    void fineSpreadFollowsKeysThatVaryAlongMoreDirectionsThanTheRankedOnes() {
        float[][] planted = new float[5][];
        for (int r = 0; r < planted.length; r++) {
            planted[r] = unit(new SplittableRandom(20 + r));
            for (int s = 0; s < r; s++) {
                planted[r] = orthogonalTo(planted[s], planted[r]);
            }
        }
        float[] scales = {3f, 2.6f, 2.2f, 1.8f, 1.4f};
        SplittableRandom random = new SplittableRandom(30);
        float[] keys = new float[COUNT * DIM];
        for (int i = 0; i < COUNT; i++) {
            float[] key = new float[DIM];
            for (int r = 0; r < planted.length; r++) {
                Dot.addScaled(planted[r], 0, (float) (scales[r] * random.nextGaussian()), key, DIM);
            }
            for (int d = 0; d < DIM; d++) {
                keys[i * DIM + d] = 1 + key[d] + (float) (0.1 * random.nextGaussian());
            }
        }
        TreeNodes nodes = new TreeNodes(DIM, DIM, PrincipalDirections.COUNT);
        int node = nodes.newNode(0, 8);
        float[] value = new float[DIM];
        for (int i = 0; i < COUNT; i++) {
            nodes.addKey(node, keys, i * DIM, value);
        }
        nodes.fitDirections(node, keys, COUNT);
        nodes.refreshSketch(node);

        List<float[]> queries = TestVectors.gaussian(30, DIM, 31);
        double rankedError = meanRelativeError(keys, queries, query -> moments(nodes, node, query)[1]);
        double fineError = meanRelativeError(keys, queries, query -> {
            float[] squares = new float[DIM];
            for (int d = 0; d < DIM; d++) {
                squares[d] = query[d] * query[d];
            }
            return nodes.fineSpread(query, squares, node, moments(nodes, node, query)[1],
                    new float[PrincipalDirections.COUNT]);
        });
        assertTrue(fineError < 0.1, "spread from all directions is off by " + fineError + " on average");
        assertTrue(fineError < rankedError / 2,
                "all directions " + fineError + " against the ranked ones " + rankedError);
    }

    @Test
    void anInternalNodeFitsDirectionsToItsChildrenSummaries() {
        float[] first = unit(new SplittableRandom(8));
        float[] second = orthogonalTo(first, unit(new SplittableRandom(9)));
        float[] keys = correlatedKeys(first, second, new SplittableRandom(10));
        TreeNodes nodes = new TreeNodes(DIM, DIM, PrincipalDirections.COUNT);
        int parent = nodes.newNode(1, 4);
        int plainParent = nodes.newNode(1, 4);
        float[] value = new float[DIM];
        int half = COUNT / 2;
        for (int start : new int[] {0, half}) {
            int leaf = nodes.newNode(0, 8);
            float[] leafKeys = java.util.Arrays.copyOfRange(keys, start * DIM, (start + half) * DIM);
            for (int i = 0; i < half; i++) {
                nodes.addKey(leaf, leafKeys, i * DIM, value);
            }
            nodes.fitDirections(leaf, leafKeys, half);
            nodes.refreshSketch(leaf);
            for (int node : new int[] {parent, plainParent}) {
                nodes.addSummary(node, leaf);
                nodes.addMember(node, leaf);
            }
        }
        nodes.fitDirectionsToChildren(parent);
        nodes.refreshSketch(parent);

        List<float[]> queries = TestVectors.gaussian(30, DIM, 11);
        double plainError = meanRelativeError(keys, queries, query -> moments(nodes, plainParent, query)[1]);
        double fittedError = meanRelativeError(keys, queries, query -> moments(nodes, parent, query)[1]);
        assertTrue(fittedError < 0.15, "spread fitted to the children is off by " + fittedError + " on average");
        assertTrue(fittedError < plainError / 2,
                "fitted to the children " + fittedError + " against independent dimensions " + plainError);
    }

    /** The mean and spread of q·k over the node's keys that {@link TreeNodes#moments} estimates. */
    private static float[] moments(TreeNodes nodes, int node, float[] query) {
        float[] mean = new float[1];
        float[] spread = new float[1];
        nodes.moments(query, node, mean, spread, 0);
        return new float[] {mean[0], spread[0]};
    }

    /** The mean over the queries of |spread(q) − the true spread of q·k over the keys| / the true spread. */
    private static double meanRelativeError(float[] keys, List<float[]> queries, ToDoubleFunction<float[]> spread) {
        double error = 0;
        for (float[] query : queries) {
            double truth = Math.sqrt(trueVariance(keys, query));
            error += Math.abs(spread.applyAsDouble(query) - truth) / truth;
        }
        return error / queries.size();
    }

    /** Keys = 3·a·first + 2·b·second + small isotropic noise, a and b standard normal. */
    private static float[] correlatedKeys(float[] first, float[] second, SplittableRandom random) {
        float[] keys = new float[COUNT * DIM];
        for (int i = 0; i < COUNT; i++) {
            double a = 3 * random.nextGaussian();
            double b = 2 * random.nextGaussian();
            for (int d = 0; d < DIM; d++) {
                keys[i * DIM + d] = (float) (1 + a * first[d] + b * second[d] + 0.1 * random.nextGaussian());
            }
        }
        return keys;
    }

    /** Var(q·k) over the keys, for any vector q (a query or a direction). */
    private static double trueVariance(float[] keys, float[] query) {
        double sum = 0;
        double squares = 0;
        for (int i = 0; i < COUNT; i++) {
            double score = Dot.dot(query, 0, keys, i * DIM, DIM);
            sum += score;
            squares += score * score;
        }
        double mean = sum / COUNT;
        return squares / COUNT - mean * mean;
    }

    private static float[] unit(SplittableRandom random) {
        float[] v = new float[DIM];
        for (int d = 0; d < DIM; d++) {
            v[d] = (float) random.nextGaussian();
        }
        return normalised(v);
    }

    private static float[] orthogonalTo(float[] fixed, float[] v) {
        Dot.addScaled(fixed, 0, -Dot.dot(fixed, 0, v, 0, DIM), v, DIM);
        return normalised(v);
    }

    private static float[] normalised(float[] v) {
        float norm = (float) Math.sqrt(Dot.dot(v, 0, v, 0, DIM));
        for (int d = 0; d < DIM; d++) {
            v[d] /= norm;
        }
        return v;
    }
}
