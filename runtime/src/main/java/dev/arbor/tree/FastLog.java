package dev.arbor.tree;

/**
 * The natural logarithm in float precision without {@link Math#log}'s double-precision work: refinement
 * takes two logarithms per pruned subtree (its key count and its spread), about 2,800 per head-call at
 * 1,048,576 synthetic keys, and the decoder's group search one per pruned subtree (some 150 per search
 * at 64K keys), where they only rank subtrees and compare them with a floor.
 */
final class FastLog {
    private static final float LN_2 = 0.6931472f;
    private static final float SQRT_2 = 1.4142135f;
    private static final int MANTISSA_BITS = 0x007fffff;
    private static final int ONE_BITS = 0x3f800000;
    private static final int SMALLEST_NORMAL_BITS = 0x00800000;
    private static final int INFINITY_BITS = 0x7f800000;

    private FastLog() {}

    /**
     * ln x within 1e-6 of {@link Math#log} for positive normal x (relatively, for |ln x| > 1); zero,
     * subnormal, negative, infinite and NaN arguments go to {@link Math#log}. With x = m·2^e, m in
     * [√½, √2): ln x = e·ln 2 + ln m, and ln m = 2·atanh(t) with t = (m−1)/(m+1), |t| < 0.172, whose
     * series to t^7 leaves an error below 3e-8.
     */
    static float of(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (bits < SMALLEST_NORMAL_BITS || bits >= INFINITY_BITS) {
            return (float) Math.log(x);
        }
        int exponent = (bits >>> 23) - 127;
        float mantissa = Float.intBitsToFloat((bits & MANTISSA_BITS) | ONE_BITS);
        if (mantissa > SQRT_2) {
            mantissa *= 0.5f;
            exponent++;
        }
        float t = (mantissa - 1) / (mantissa + 1);
        float t2 = t * t;
        return exponent * LN_2 + 2 * t * (1 + t2 * (1 / 3f + t2 * (1 / 5f + t2 * (1 / 7f))));
    }
}
