package dev.arbor.ops;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Random;

/** Deterministic random inputs, and copies into direct buffers as the KV store holds them. */
final class TestData {
    private TestData() {}

    static float[] gaussian(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    static FloatBuffer direct(float[] values) {
        FloatBuffer buffer = ByteBuffer.allocateDirect(values.length * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        return buffer.put(values).flip();
    }

    static LongBuffer direct(long[] values) {
        LongBuffer buffer = ByteBuffer.allocateDirect(values.length * Long.BYTES).order(ByteOrder.nativeOrder())
                .asLongBuffer();
        return buffer.put(values).flip();
    }

    static void assertClose(double[] expected, float[] actual, double tolerance, String what) {
        org.junit.jupiter.api.Assertions.assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > tolerance) {
                org.junit.jupiter.api.Assertions.fail(what + "[" + i + "]: expected " + expected[i] + " but ONNX gave "
                        + actual[i] + " (tolerance " + tolerance + ")");
            }
        }
    }
}
