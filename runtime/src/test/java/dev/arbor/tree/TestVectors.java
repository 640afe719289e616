package dev.arbor.tree;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Deterministic key, value and query sets for tree tests. */
final class TestVectors {
    private TestVectors() {}

    static List<float[]> gaussian(int count, int dim, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<float[]> vectors = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            vectors.add(gaussian(random, dim, 1.0));
        }
        return vectors;
    }

    /** Keys around a few centres, with two dimensions much larger than the rest, as attention keys are. */
    static List<float[]> clustered(int count, int dim, int clusters, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<float[]> centres = new ArrayList<>();
        for (int c = 0; c < clusters; c++) {
            float[] centre = gaussian(random, dim, 2.0);
            centre[0] *= 6;
            centre[1] *= 4;
            centres.add(centre);
        }
        List<float[]> vectors = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            float[] centre = centres.get(random.nextInt(clusters));
            float[] noise = gaussian(random, dim, 0.5);
            for (int d = 0; d < dim; d++) {
                noise[d] += centre[d];
            }
            vectors.add(noise);
        }
        return vectors;
    }

    /** Small integers: every dot product is exact in float, so equal scores really are equal. */
    static List<float[]> smallIntegers(int count, int dim, int range, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<float[]> vectors = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            float[] v = new float[dim];
            for (int d = 0; d < dim; d++) {
                v[d] = random.nextInt(-range, range + 1);
            }
            vectors.add(v);
        }
        return vectors;
    }

    static float[] gaussian(SplittableRandom random, int dim, double sigma) {
        float[] v = new float[dim];
        for (int d = 0; d < dim; d++) {
            v[d] = (float) (sigma * gaussian(random));
        }
        return v;
    }

    private static double gaussian(SplittableRandom random) {
        double u = 1 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    static AttentionTree treeOf(List<float[]> keys, List<float[]> values, TreeSettings settings) {
        AttentionTree tree = AttentionTree.builder()
                .keyDim(keys.get(0).length)
                .valueDim(values.get(0).length)
                .settings(settings)
                .build();
        for (int i = 0; i < keys.size(); i++) {
            tree.append(keys.get(i), values.get(i));
        }
        return tree;
    }
}
