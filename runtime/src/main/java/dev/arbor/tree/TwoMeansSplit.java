package dev.arbor.tree;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Splits a full node's points (keys of a leaf, or centroids of an internal node's children) into two
 * content clusters by a few rounds of 2-means, seeded deterministically by the point farthest from
 * the mean and the point farthest from that one.
 *
 * <p>If 2-means leaves one side with fewer than a quarter of the points (duplicate keys, a lone
 * outlier), the split falls back to the median of the projection on the seeds' axis. The guarantee
 * that both halves are at least a quarter full is what keeps splits, and so inserts, amortised O(1).
 */
final class TwoMeansSplit {
    private static final int ROUNDS = 4;

    private TwoMeansSplit() {}

    /** Returns {@code right[i]}: whether point {@code i} goes to the new sibling node. */
    static boolean[] split(float[] points, int count, int dim) {
        float[] mean = new float[dim];
        for (int i = 0; i < count; i++) {
            Dot.add(points, i * dim, mean, 0, dim);
        }
        int a = farthest(points, count, dim, mean, 0, 1f / count);
        int b = farthest(points, count, dim, points, a * dim, 1f);
        float[] left = Arrays.copyOfRange(points, a * dim, a * dim + dim);
        float[] right = Arrays.copyOfRange(points, b * dim, b * dim + dim);
        boolean[] side = new boolean[count];
        for (int round = 0; round < ROUNDS; round++) {
            float[] leftSum = new float[dim];
            float[] rightSum = new float[dim];
            int rightCount = 0;
            for (int i = 0; i < count; i++) {
                float toLeft = Dot.squaredDistance(points, i * dim, left, 0, 1f, dim);
                float toRight = Dot.squaredDistance(points, i * dim, right, 0, 1f, dim);
                side[i] = toRight < toLeft;
                Dot.add(points, i * dim, side[i] ? rightSum : leftSum, 0, dim);
                rightCount += side[i] ? 1 : 0;
            }
            if (rightCount == 0 || rightCount == count) {
                break;
            }
            for (int d = 0; d < dim; d++) {
                left[d] = leftSum[d] / (count - rightCount);
                right[d] = rightSum[d] / rightCount;
            }
        }
        int rightCount = 0;
        for (boolean r : side) {
            rightCount += r ? 1 : 0;
        }
        int smaller = Math.min(rightCount, count - rightCount);
        if (smaller < count / 4) {
            return medianSplit(points, count, dim, a, b);
        }
        return side;
    }

    private static int farthest(float[] points, int count, int dim, float[] from, int fromOffset, float fromScale) {
        int best = 0;
        float bestDistance = -1;
        for (int i = 0; i < count; i++) {
            float distance = Dot.squaredDistance(points, i * dim, from, fromOffset, fromScale, dim);
            if (distance > bestDistance) {
                bestDistance = distance;
                best = i;
            }
        }
        return best;
    }

    private static boolean[] medianSplit(float[] points, int count, int dim, int a, int b) {
        float[] axis = new float[dim];
        for (int d = 0; d < dim; d++) {
            axis[d] = points[b * dim + d] - points[a * dim + d];
        }
        float[] projection = new float[count];
        for (int i = 0; i < count; i++) {
            projection[i] = Dot.dot(points, i * dim, axis, 0, dim);
        }
        Integer[] order = IntStream.range(0, count).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> projection[i]).thenComparingInt(i -> i));
        boolean[] side = new boolean[count];
        for (int rank = count / 2; rank < count; rank++) {
            side[order[rank]] = true;
        }
        return side;
    }
}
