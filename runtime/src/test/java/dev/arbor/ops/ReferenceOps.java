package dev.arbor.ops;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/** Plain-Java brute-force versions of the ai.arbor ops, in double precision: the tests' oracle. */
final class ReferenceOps {
    private ReferenceOps() {}

    static double dot(float[] a, int aOffset, float[] b, int bOffset, int d) {
        double sum = 0;
        for (int i = 0; i < d; i++) {
            sum += (double) a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /** Score of candidate row {@code id} for head {@code h}: q·v (+ |q|·r). */
    static double score(float[] queries, int h, float[] vectors, long id, float[] radii, int d) {
        double s = dot(queries, h * d, vectors, (int) id * d, d);
        if (radii != null) {
            s += Math.sqrt(dot(queries, h * d, queries, h * d, d)) * radii[(int) id];
        }
        return s;
    }

    /** Top-{@code beam} candidate ids per head, best first, ties to the lower candidate position. */
    static long[] searchStep(float[] queries, float[] vectors, long[] candidates, float[] radii, int heads, int d,
            int beam) {
        int c = candidates.length / heads;
        long[] ids = new long[heads * beam];
        for (int h = 0; h < heads; h++) {
            final int head = h;
            double[] scores = new double[c];
            for (int i = 0; i < c; i++) {
                scores[i] = score(queries, h, vectors, candidates[h * c + i], radii, d);
            }
            int[] order = IntStream.range(0, c).boxed()
                    .sorted(Comparator.comparingDouble((Integer i) -> -scores[i]).thenComparingInt(i -> i))
                    .mapToInt(Integer::intValue).toArray();
            for (int r = 0; r < beam; r++) {
                ids[head * beam + r] = candidates[h * c + order[r]];
            }
        }
        return ids;
    }

    /**
     * Attention of each head over its valid keys plus summaries expanded literally: a summary of count n
     * is n copies of (mean key, valueSum/n). Returns output [H, dv] followed by key weights [H, R].
     */
    static double[][] retrievedAttention(float[] q, float[] keys, float[] values, boolean[] mask, float[] means,
            float[] valueSums, float[] counts, int heads, int r, int s, int d, int dv, float scale) {
        double[] output = new double[heads * dv];
        double[] keyWeights = new double[heads * r];
        for (int h = 0; h < heads; h++) {
            double[] logits = new double[r + s];
            double[] multiplicity = new double[r + s];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < r; i++) {
                multiplicity[i] = mask[h * r + i] ? 1 : 0;
                logits[i] = scale * dot(q, h * d, keys, (h * r + i) * d, d);
            }
            for (int j = 0; j < s; j++) {
                multiplicity[r + j] = counts[h * s + j];
                logits[r + j] = scale * dot(q, h * d, means, (h * s + j) * d, d);
            }
            for (int i = 0; i < r + s; i++) {
                if (multiplicity[i] > 0) {
                    max = Math.max(max, logits[i]);
                }
            }
            double[] weight = new double[r + s];
            double total = 0;
            for (int i = 0; i < r + s; i++) {
                weight[i] = multiplicity[i] > 0 ? multiplicity[i] * Math.exp(logits[i] - max) : 0;
                total += weight[i];
            }
            for (int i = 0; i < r + s; i++) {
                weight[i] /= total;
            }
            for (int e = 0; e < dv; e++) {
                double sum = 0;
                for (int i = 0; i < r; i++) {
                    if (weight[i] > 0) {
                        sum += weight[i] * values[(h * r + i) * dv + e];
                    }
                }
                for (int j = 0; j < s; j++) {
                    if (weight[r + j] > 0) {
                        sum += weight[r + j] * valueSums[(h * s + j) * dv + e] / counts[h * s + j];
                    }
                }
                output[h * dv + e] = sum;
            }
            System.arraycopy(weight, 0, keyWeights, h * r, r);
        }
        return new double[][] {output, keyWeights};
    }

    /** Full softmax attention over all n keys per head. */
    static double[] denseAttention(float[] q, float[] keys, float[] values, int heads, int n, int d, int dv,
            float scale) {
        boolean[] all = new boolean[heads * n];
        Arrays.fill(all, true);
        return retrievedAttention(q, keys, values, all, new float[0], new float[0], new float[0], heads, n, 0, d, dv,
                scale)[0];
    }
}
