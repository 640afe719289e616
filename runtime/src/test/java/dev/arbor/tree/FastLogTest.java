package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FastLogTest {
    @Test
    void positiveNormalNumbersAreWithinAMillionthOfMathLog() {
        SplittableRandom random = new SplittableRandom(41);
        for (int i = 0; i < 200_000; i++) {
            // Uniform in the exponent from 2^-126 to 2^127, so every binade and mantissa range is hit.
            float x = (float) Math.pow(2, -126 + 253 * random.nextDouble());
            double exact = Math.log(x);
            assertEquals(exact, FastLog.of(x), 1e-6 * Math.max(1, Math.abs(exact)), "ln " + x);
        }
    }

    @Test
    void keyCountsAndMantissasAroundTheSplitAtRootTwoAreWithinAMillionthOfMathLog() {
        for (int n = 1; n <= 1 << 21; n++) {
            assertEquals(Math.log(n), FastLog.of(n), 1e-6 * Math.max(1, Math.log(n)), "ln " + n);
        }
        for (float m = 1.4142f; m < 1.4143f; m = Math.nextUp(m)) {
            assertEquals(Math.log(m), FastLog.of(m), 1e-6, "ln " + m);
        }
    }

    @Test
    void zeroSubnormalNegativeInfiniteAndNaNArgumentsGiveWhatMathLogGives() {
        float[] arguments = {0f, -0f, Float.MIN_VALUE, Float.MIN_NORMAL / 2, -1f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN};
        for (float x : arguments) {
            assertEquals((float) Math.log(x), FastLog.of(x), "ln " + x);
        }
    }
}
