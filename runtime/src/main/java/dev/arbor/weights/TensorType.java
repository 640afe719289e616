package dev.arbor.weights;

import java.nio.ByteBuffer;

/** Element types Arbor reads from weight files; everything is widened to float32 on load. */
public enum TensorType {
    F32(4),
    F16(2),
    BF16(2);

    private final int bytes;

    TensorType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** Reads {@code count} little-endian elements starting at the buffer's position. */
    public float[] read(ByteBuffer data, int count) {
        float[] out = new float[count];
        switch (this) {
            case F32 -> data.asFloatBuffer().get(out);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.float16ToFloat(data.getShort(data.position() + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat((data.getShort(data.position() + 2 * i) & 0xFFFF) << 16);
                }
            }
        }
        return out;
    }
}
