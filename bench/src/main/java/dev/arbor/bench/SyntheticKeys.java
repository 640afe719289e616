package dev.arbor.bench;

import java.util.SplittableRandom;

/**
 * Keys, values and queries of one attention head that look like a real model's rather than uniform
 * noise: a few dimensions carry a large, shared offset (the "massive activations" of real keys);
 * keys cluster around {@value #CLUSTERS} centres; the document moves through topics, each
 * {@value #TOPIC_LENGTH} tokens drawing from a handful of clusters; and every centre drifts slowly
 * with position. A query is a fresh draw from the distribution of the keys at a random position,
 * so it lies near real keys without being one of them.
 */
final class SyntheticKeys {
    static final int CLUSTERS = 256;
    static final int TOPIC_LENGTH = 4096;
    private static final int TOPIC_CLUSTERS = 8;
    private static final int OUTLIER_DIMS = 3;
    private static final double NOISE = 0.7;
    private static final double HORIZON = 1 << 20;

    private final int dim;
    private final long seed;
    private final float[] bias;
    private final float[][] centres;
    private final float[][] drifts;
    private final float[][] valueCentres;

    SyntheticKeys(int dim, long seed) {
        this.dim = dim;
        this.seed = seed;
        SplittableRandom random = new SplittableRandom(seed);
        bias = new float[dim];
        for (int i = 0; i < OUTLIER_DIMS; i++) {
            int d = random.nextInt(dim);
            bias[d] = (float) ((random.nextBoolean() ? 1 : -1) * (6 + 4 * random.nextDouble()));
        }
        centres = new float[CLUSTERS][];
        drifts = new float[CLUSTERS][];
        valueCentres = new float[CLUSTERS][];
        for (int c = 0; c < CLUSTERS; c++) {
            centres[c] = gaussian(random, 1.0);
            for (int d = 0; d < dim; d++) {
                if (bias[d] != 0) {
                    centres[c][d] *= 3;
                }
            }
            drifts[c] = gaussian(random, 0.5);
            valueCentres[c] = gaussian(random, 1.0);
        }
    }

    /** Writes the key and value at {@code position} into {@code key} and {@code value}. */
    void keyValue(long position, SplittableRandom noise, float[] key, int keyOffset, float[] value, int valueOffset) {
        int cluster = clusterAt(position, noise);
        float progress = (float) (position / HORIZON);
        for (int d = 0; d < dim; d++) {
            key[keyOffset + d] = bias[d] + centres[cluster][d] + progress * drifts[cluster][d]
                    + (float) (NOISE * gaussian(noise));
            value[valueOffset + d] = valueCentres[cluster][d] + (float) gaussian(noise);
        }
    }

    /** A query drawn like the keys around a random position below {@code length}. */
    float[] query(long length, SplittableRandom random) {
        long position = random.nextLong(length);
        float[] query = new float[dim];
        keyValue(position, random, query, 0, new float[dim], 0);
        return query;
    }

    /** The topic of a position picks from its clusters with skewed (1/rank) weights. */
    private int clusterAt(long position, SplittableRandom noise) {
        long topic = position / TOPIC_LENGTH;
        SplittableRandom topicRandom = new SplittableRandom(seed * 31 + topic);
        double u = noise.nextDouble() * harmonic(TOPIC_CLUSTERS);
        int rank = 0;
        while (rank < TOPIC_CLUSTERS - 1 && (u -= 1.0 / (rank + 1)) > 0) {
            rank++;
        }
        int cluster = 0;
        for (int i = 0; i <= rank; i++) {
            cluster = topicRandom.nextInt(CLUSTERS);
        }
        return cluster;
    }

    private static double harmonic(int n) {
        double sum = 0;
        for (int i = 1; i <= n; i++) {
            sum += 1.0 / i;
        }
        return sum;
    }

    private float[] gaussian(SplittableRandom random, double sigma) {
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
}
