package dev.arbor.tree;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** SIMD dot products and box bounds over float arrays: the inner loops of insert and search. */
final class Dot {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> EIGHT_FLOATS = FloatVector.SPECIES_256;
    private static final VectorSpecies<Byte> EIGHT_BYTES = ByteVector.SPECIES_64;

    private Dot() {}

    static float dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
        int i = 0;
        FloatVector sum = FloatVector.zero(SPECIES);
        for (int bound = SPECIES.loopBound(length); i < bound; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromArray(SPECIES, a, aOffset + i);
            FloatVector y = FloatVector.fromArray(SPECIES, b, bOffset + i);
            sum = x.fma(y, sum);
        }
        float result = sum.reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            result += a[aOffset + i] * b[bOffset + i];
        }
        return result;
    }

    static float squaredDistance(float[] a, int aOffset, float[] b, int bOffset, float bScale, int length) {
        int i = 0;
        FloatVector sum = FloatVector.zero(SPECIES);
        for (int bound = SPECIES.loopBound(length); i < bound; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromArray(SPECIES, a, aOffset + i);
            FloatVector y = FloatVector.fromArray(SPECIES, b, bOffset + i).mul(bScale);
            FloatVector d = x.sub(y);
            sum = d.fma(d, sum);
        }
        float result = sum.reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            float d = a[aOffset + i] - b[bOffset + i] * bScale;
            result += d * d;
        }
        return result;
    }

    /**
     * The largest q·k for any k inside the box {@code [lower, upper]}, rounded up by a relative margin
     * so that float rounding in {@link #dot} can never push a key's score above its box's bound: exact
     * search prunes on this value and must not lose a key to an ulp.
     */
    static float boxBound(float[] q, float[] lower, float[] upper, int offset, int length) {
        int i = 0;
        FloatVector best = FloatVector.zero(SPECIES);
        FloatVector magnitude = FloatVector.zero(SPECIES);
        for (int bound = SPECIES.loopBound(length); i < bound; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromArray(SPECIES, q, i);
            FloatVector lo = x.mul(FloatVector.fromArray(SPECIES, lower, offset + i));
            FloatVector hi = x.mul(FloatVector.fromArray(SPECIES, upper, offset + i));
            best = best.add(lo.max(hi));
            magnitude = magnitude.add(lo.abs().max(hi.abs()));
        }
        float result = best.reduceLanes(VectorOperators.ADD);
        float scale = magnitude.reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            float lo = q[i] * lower[offset + i];
            float hi = q[i] * upper[offset + i];
            result += Math.max(lo, hi);
            scale += Math.max(Math.abs(lo), Math.abs(hi));
        }
        return result + scale * 1e-5f + Float.MIN_NORMAL;
    }

    /** Adds a key to a node's sums, sums of squares and min/max box, all at {@code offset}. */
    static void accumulate(float[] key, int keyOffset, float[] sums, float[] squares, float[] lower, float[] upper,
            int offset, int length) {
        int i = 0;
        for (int bound = SPECIES.loopBound(length); i < bound; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromArray(SPECIES, key, keyOffset + i);
            FloatVector.fromArray(SPECIES, sums, offset + i).add(x).intoArray(sums, offset + i);
            x.fma(x, FloatVector.fromArray(SPECIES, squares, offset + i)).intoArray(squares, offset + i);
            FloatVector.fromArray(SPECIES, lower, offset + i).min(x).intoArray(lower, offset + i);
            FloatVector.fromArray(SPECIES, upper, offset + i).max(x).intoArray(upper, offset + i);
        }
        for (; i < length; i++) {
            float x = key[keyOffset + i];
            sums[offset + i] += x;
            squares[offset + i] += x * x;
            lower[offset + i] = Math.min(lower[offset + i], x);
            upper[offset + i] = Math.max(upper[offset + i], x);
        }
    }

    /** Widens the box {@code [lower, upper]} (offset 0) to hold the point at {@code pointOffset}. */
    static void widenBox(float[] points, int pointOffset, float[] lower, float[] upper, int length) {
        int i = 0;
        for (int bound = SPECIES.loopBound(length); i < bound; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromArray(SPECIES, points, pointOffset + i);
            FloatVector.fromArray(SPECIES, lower, i).min(x).intoArray(lower, i);
            FloatVector.fromArray(SPECIES, upper, i).max(x).intoArray(upper, i);
        }
        for (; i < length; i++) {
            float x = points[pointOffset + i];
            lower[i] = Math.min(lower[i], x);
            upper[i] = Math.max(upper[i], x);
        }
    }

    /** {@code target[targetOffset ..] += source[sourceOffset ..]}. */
    static void add(float[] source, int sourceOffset, float[] target, int targetOffset, int length) {
        int i = 0;
        for (int bound = SPECIES.loopBound(length); i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, target, targetOffset + i)
                    .add(FloatVector.fromArray(SPECIES, source, sourceOffset + i))
                    .intoArray(target, targetOffset + i);
        }
        for (; i < length; i++) {
            target[targetOffset + i] += source[sourceOffset + i];
        }
    }

    /**
     * Var(q·k) over n keys given their per-dimension sums and sums of squares at {@code offset},
     * dimensions taken as independent: Σ q_d² (E[k_d²] − E[k_d]²).
     */
    static float scoreVariance(float[] q, float[] sums, float[] squares, int offset, int n, int length) {
        float inverse = 1f / n;
        int i = 0;
        FloatVector total = FloatVector.zero(SPECIES);
        FloatVector zero = FloatVector.zero(SPECIES);
        for (int bound = SPECIES.loopBound(length); i < bound; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromArray(SPECIES, q, i);
            FloatVector mean = FloatVector.fromArray(SPECIES, sums, offset + i).mul(inverse);
            FloatVector spread = FloatVector.fromArray(SPECIES, squares, offset + i).mul(inverse)
                    .sub(mean.mul(mean))
                    .max(zero);
            total = x.mul(x).fma(spread, total);
        }
        float result = total.reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            float mean = sums[offset + i] * inverse;
            float spread = Math.max(0f, squares[offset + i] * inverse - mean * mean);
            result += q[i] * q[i] * spread;
        }
        return result;
    }

    /**
     * {@link #sketchMoments} with two int8 directions at {@code directions[directionOffset ..]} and
     * {@code [directionOffset + length ..]}: the spread's variance also gets {@code firstWeight · (q·u₁)²
     * + secondWeight · (q·u₂)²} (u as raw levels), dotted in the same pass over q.
     */
    static void sketchMoments(float[] q, byte[] sketch, int offset, int length, float[] scales, int scaleOffset,
            byte[] directions, int directionOffset, float firstWeight, float secondWeight, float[] means,
            float[] spreads, int out) {
        int i = 0;
        FloatVector meanSum = FloatVector.zero(EIGHT_FLOATS);
        FloatVector spreadSum = FloatVector.zero(EIGHT_FLOATS);
        FloatVector firstSum = FloatVector.zero(EIGHT_FLOATS);
        FloatVector secondSum = FloatVector.zero(EIGHT_FLOATS);
        for (int bound = EIGHT_FLOATS.loopBound(length); i < bound; i += EIGHT_FLOATS.length()) {
            FloatVector x = FloatVector.fromArray(EIGHT_FLOATS, q, i);
            FloatVector mean = (FloatVector) ByteVector.fromArray(EIGHT_BYTES, sketch, offset + i)
                    .convertShape(VectorOperators.B2F, EIGHT_FLOATS, 0);
            FloatVector spread = ((FloatVector) ByteVector.fromArray(EIGHT_BYTES, sketch, offset + length + i)
                    .convertShape(VectorOperators.B2F, EIGHT_FLOATS, 0)).mul(x);
            FloatVector first = (FloatVector) ByteVector.fromArray(EIGHT_BYTES, directions, directionOffset + i)
                    .convertShape(VectorOperators.B2F, EIGHT_FLOATS, 0);
            FloatVector second = (FloatVector) ByteVector
                    .fromArray(EIGHT_BYTES, directions, directionOffset + length + i)
                    .convertShape(VectorOperators.B2F, EIGHT_FLOATS, 0);
            meanSum = mean.fma(x, meanSum);
            spreadSum = spread.fma(spread, spreadSum);
            firstSum = first.fma(x, firstSum);
            secondSum = second.fma(x, secondSum);
        }
        float mean = meanSum.reduceLanes(VectorOperators.ADD);
        float variance = spreadSum.reduceLanes(VectorOperators.ADD);
        float first = firstSum.reduceLanes(VectorOperators.ADD);
        float second = secondSum.reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            mean += q[i] * sketch[offset + i];
            float spread = q[i] * sketch[offset + length + i];
            variance += spread * spread;
            first += q[i] * directions[directionOffset + i];
            second += q[i] * directions[directionOffset + length + i];
        }
        float spreadScale = scales[scaleOffset + 1];
        means[out] = mean * scales[scaleOffset];
        spreads[out] = (float) Math.sqrt(spreadScale * spreadScale * variance + firstWeight * first * first
                + secondWeight * second * second);
    }

    /** {@code target[d] −= weight · bytes[offset + d]²} for d below {@code length}, the bytes read as signed integers. */
    static void subtractSquares(byte[] bytes, int offset, float weight, float[] target, int length) {
        int i = 0;
        for (int bound = EIGHT_FLOATS.loopBound(length); i < bound; i += EIGHT_FLOATS.length()) {
            FloatVector level = (FloatVector) ByteVector.fromArray(EIGHT_BYTES, bytes, offset + i)
                    .convertShape(VectorOperators.B2F, EIGHT_FLOATS, 0);
            FloatVector.fromArray(EIGHT_FLOATS, target, i)
                    .sub(level.mul(level).mul(weight))
                    .intoArray(target, i);
        }
        for (; i < length; i++) {
            float level = bytes[offset + i];
            target[i] -= weight * level * level;
        }
    }

    /** {@code q · bytes[offset .. offset + length]}, the bytes read as signed integers. */
    static float dot(float[] q, byte[] bytes, int offset, int length) {
        int i = 0;
        FloatVector sum = FloatVector.zero(EIGHT_FLOATS);
        for (int bound = EIGHT_FLOATS.loopBound(length); i < bound; i += EIGHT_FLOATS.length()) {
            FloatVector level = (FloatVector) ByteVector.fromArray(EIGHT_BYTES, bytes, offset + i)
                    .convertShape(VectorOperators.B2F, EIGHT_FLOATS, 0);
            sum = level.fma(FloatVector.fromArray(EIGHT_FLOATS, q, i), sum);
        }
        float result = sum.reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            result += q[i] * bytes[offset + i];
        }
        return result;
    }

    /**
     * Σ_r weights[r]·((q·L_r)² − Σ_d q_d²·L_rd²) over the {@code count} rows of int8 levels L_r at
     * {@code bytes[offset ..]}, one every {@code length} bytes, given {@code squares} = q_d²: what a
     * node's directions beyond its ranked ones change in its variance of q·k (see
     * {@link TreeNodes#fineSpread}). One method with scalar results: it stays one compiled loop.
     */
    static float directionCorrection(float[] q, float[] squares, byte[] bytes, int offset, int count, int length,
            float[] weights) {
        float correction = 0;
        for (int r = 0; r < count; r++) {
            if (weights[r] == 0) {
                continue;
            }
            int start = offset + r * length;
            int i = 0;
            FloatVector along = FloatVector.zero(EIGHT_FLOATS);
            FloatVector diagonal = FloatVector.zero(EIGHT_FLOATS);
            for (int bound = EIGHT_FLOATS.loopBound(length); i < bound; i += EIGHT_FLOATS.length()) {
                FloatVector level = (FloatVector) ByteVector.fromArray(EIGHT_BYTES, bytes, start + i)
                        .convertShape(VectorOperators.B2F, EIGHT_FLOATS, 0);
                along = level.fma(FloatVector.fromArray(EIGHT_FLOATS, q, i), along);
                diagonal = level.mul(level).fma(FloatVector.fromArray(EIGHT_FLOATS, squares, i), diagonal);
            }
            float first = along.reduceLanes(VectorOperators.ADD);
            float second = diagonal.reduceLanes(VectorOperators.ADD);
            for (; i < length; i++) {
                float level = bytes[start + i];
                first += q[i] * level;
                second += squares[i] * level * level;
            }
            correction += weights[r] * (first * first - second);
        }
        return correction;
    }

    /** {@code target[targetOffset ..] = a[aOffset ..] − b[..]}, {@code length} floats. */
    static void difference(float[] a, int aOffset, float[] b, float[] target, int targetOffset, int length) {
        int i = 0;
        for (int bound = SPECIES.loopBound(length); i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, a, aOffset + i)
                    .sub(FloatVector.fromArray(SPECIES, b, i))
                    .intoArray(target, targetOffset + i);
        }
        for (; i < length; i++) {
            target[targetOffset + i] = a[aOffset + i] - b[i];
        }
    }

    /** {@code target[..] += weight · source[sourceOffset ..]}. */
    static void addScaled(float[] source, int sourceOffset, float weight, float[] target, int length) {
        addScaled(source, sourceOffset, weight, target, 0, length);
    }

    /** {@code target[targetOffset ..] += weight · source[sourceOffset ..]}. */
    static void addScaled(float[] source, int sourceOffset, float weight, float[] target, int targetOffset,
            int length) {
        int i = 0;
        for (int bound = SPECIES.loopBound(length); i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, source, sourceOffset + i)
                    .fma(FloatVector.broadcast(SPECIES, weight), FloatVector.fromArray(SPECIES, target, targetOffset + i))
                    .intoArray(target, targetOffset + i);
        }
        for (; i < length; i++) {
            target[targetOffset + i] += weight * source[sourceOffset + i];
        }
    }

    /**
     * Writes the int8 sketch of a set of n keys from their sums and sums of squares at {@code offset}:
     * {@code length} levels of the mean then {@code length} levels of the standard deviation, at
     * {@code sketch[sketchOffset ..]}, and the two scales (value per level) at {@code scales[scaleOffset ..]}.
     */
    static void sketch(float[] sums, float[] squares, int offset, int n, int length, byte[] sketch, int sketchOffset,
            float[] scales, int scaleOffset) {
        float inverse = 1f / n;
        int bound = EIGHT_FLOATS.loopBound(length);
        FloatVector largestMeans = FloatVector.zero(EIGHT_FLOATS);
        FloatVector largestVariances = FloatVector.zero(EIGHT_FLOATS);
        for (int i = 0; i < bound; i += EIGHT_FLOATS.length()) {
            FloatVector mean = FloatVector.fromArray(EIGHT_FLOATS, sums, offset + i).mul(inverse);
            FloatVector variance = FloatVector.fromArray(EIGHT_FLOATS, squares, offset + i).mul(inverse)
                    .sub(mean.mul(mean));
            largestMeans = largestMeans.max(mean.abs());
            largestVariances = largestVariances.max(variance);
        }
        float largestMean = largestMeans.reduceLanes(VectorOperators.MAX);
        float largestVariance = largestVariances.reduceLanes(VectorOperators.MAX);
        for (int i = bound; i < length; i++) {
            float mean = sums[offset + i] * inverse;
            largestMean = Math.max(largestMean, Math.abs(mean));
            largestVariance = Math.max(largestVariance, squares[offset + i] * inverse - mean * mean);
        }
        float meanScale = largestMean / 127f;
        float spreadScale = (float) Math.sqrt(Math.max(0f, largestVariance)) / 127f;
        float toMean = meanScale == 0 ? 0 : 1f / meanScale;
        float toSpread = spreadScale == 0 ? 0 : 1f / spreadScale;
        for (int i = 0; i < bound; i += EIGHT_FLOATS.length()) {
            FloatVector mean = FloatVector.fromArray(EIGHT_FLOATS, sums, offset + i).mul(inverse);
            FloatVector spread = FloatVector.fromArray(EIGHT_FLOATS, squares, offset + i).mul(inverse)
                    .sub(mean.mul(mean)).max(0f).sqrt();
            // Levels round half away from zero (F2B truncates towards zero).
            FloatVector meanLevel = mean.mul(toMean);
            FloatVector half = FloatVector.broadcast(EIGHT_FLOATS, 0.5f)
                    .blend(-0.5f, meanLevel.compare(VectorOperators.LT, 0f));
            meanLevel = meanLevel.add(half).max(-127f).min(127f);
            ((ByteVector) meanLevel.convertShape(VectorOperators.F2B, EIGHT_BYTES, 0))
                    .intoArray(sketch, sketchOffset + i);
            ((ByteVector) spread.mul(toSpread).add(0.5f).min(127f).convertShape(VectorOperators.F2B, EIGHT_BYTES, 0))
                    .intoArray(sketch, sketchOffset + length + i);
        }
        for (int i = bound; i < length; i++) {
            float mean = sums[offset + i] * inverse;
            float spread = (float) Math.sqrt(Math.max(0f, squares[offset + i] * inverse - mean * mean));
            float meanLevel = Math.min(127f, (int) (Math.abs(mean * toMean) + 0.5f));
            sketch[sketchOffset + i] = (byte) (Math.signum(mean) * meanLevel);
            sketch[sketchOffset + length + i] = (byte) Math.min(127f, (int) (spread * toSpread + 0.5f));
        }
        scales[scaleOffset] = meanScale;
        scales[scaleOffset + 1] = spreadScale;
    }

    /**
     * q·mean and √Var(q·k) from a sketch written by {@link #sketch}, dimensions taken as independent,
     * into {@code means[out]} and {@code spreads[out]}.
     */
    static void sketchMoments(float[] q, byte[] sketch, int offset, int length, float[] scales, int scaleOffset,
            float[] means, float[] spreads, int out) {
        int i = 0;
        FloatVector meanSum = FloatVector.zero(EIGHT_FLOATS);
        FloatVector spreadSum = FloatVector.zero(EIGHT_FLOATS);
        for (int bound = EIGHT_FLOATS.loopBound(length); i < bound; i += EIGHT_FLOATS.length()) {
            FloatVector x = FloatVector.fromArray(EIGHT_FLOATS, q, i);
            FloatVector mean = (FloatVector) ByteVector.fromArray(EIGHT_BYTES, sketch, offset + i)
                    .convertShape(VectorOperators.B2F, EIGHT_FLOATS, 0);
            FloatVector spread = ((FloatVector) ByteVector.fromArray(EIGHT_BYTES, sketch, offset + length + i)
                    .convertShape(VectorOperators.B2F, EIGHT_FLOATS, 0)).mul(x);
            meanSum = mean.fma(x, meanSum);
            spreadSum = spread.fma(spread, spreadSum);
        }
        float mean = meanSum.reduceLanes(VectorOperators.ADD);
        float variance = spreadSum.reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            mean += q[i] * sketch[offset + i];
            float spread = q[i] * sketch[offset + length + i];
            variance += spread * spread;
        }
        means[out] = mean * scales[scaleOffset];
        spreads[out] = scales[scaleOffset + 1] * (float) Math.sqrt(variance);
    }

    /** {@code weights[i] = exp(scale · scores[i] − shift)} for the first {@code count} scores, in SIMD lanes. */
    static void softmaxWeights(float[] scores, int count, float scale, float shift, float[] weights) {
        int i = 0;
        for (int bound = SPECIES.loopBound(count); i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, scores, i)
                    .mul(scale)
                    .sub(shift)
                    .lanewise(VectorOperators.EXP)
                    .intoArray(weights, i);
        }
        for (; i < count; i++) {
            weights[i] = (float) Math.exp(scale * scores[i] - shift);
        }
    }
}
