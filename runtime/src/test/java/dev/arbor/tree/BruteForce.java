package dev.arbor.tree;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/** The plain-Java reference the tree is checked against: scan every key, sort, softmax in double. */
final class BruteForce {
    private BruteForce() {}

    static float dot(float[] a, float[] b) {
        float sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /** Top-k positions by q·k, higher score first, lower position first among equal scores. */
    static long[] topK(List<float[]> keys, float[] query, int k) {
        float[] scores = new float[keys.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = dot(keys.get(i), query);
        }
        return IntStream.range(0, keys.size())
                .boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparingInt(i -> i))
                .limit(k)
                .mapToLong(Integer::longValue)
                .toArray();
    }

    static float[] attention(List<float[]> keys, List<float[]> values, float[] query, float scale) {
        double[] logits = new double[keys.size()];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            double sum = 0;
            for (int d = 0; d < query.length; d++) {
                sum += (double) query[d] * keys.get(i)[d];
            }
            logits[i] = scale * sum;
            max = Math.max(max, logits[i]);
        }
        double[] output = new double[values.get(0).length];
        double denominator = 0;
        for (int i = 0; i < logits.length; i++) {
            double weight = Math.exp(logits[i] - max);
            denominator += weight;
            for (int d = 0; d < output.length; d++) {
                output[d] += weight * values.get(i)[d];
            }
        }
        float[] result = new float[output.length];
        for (int d = 0; d < output.length; d++) {
            result[d] = (float) (output[d] / denominator);
        }
        return result;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    static double relativeError(float[] approximate, float[] exact) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < exact.length; i++) {
            diff += (approximate[i] - exact[i]) * (double) (approximate[i] - exact[i]);
            norm += exact[i] * (double) exact[i];
        }
        return Math.sqrt(diff / norm);
    }

    static String describe(long[] positions) {
        return Arrays.toString(positions);
    }
}
