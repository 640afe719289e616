package dev.arbor.store;

/**
 * How one vector element is stored on disk and in memory.
 *
 * <p>Arbor stores fp32. fp16 would halve the store, but every dot product of a search would first
 * widen each element (the scan is memory-bound either way at 256 bytes per 64-dim fp32 row, and the
 * widening costs more than the saved bandwidth on the CPUs we measured), and ONNX Runtime's CPU
 * provider computes MatMul in fp32, so an fp16 store would need a Cast (a full copy) before every
 * graph that reads it. The format code is in every segment header so fp16 can be added without
 * breaking existing files.
 */
public enum VectorFormat {
    FP32(1, Float.BYTES);

    private final int code;
    private final int bytesPerElement;

    VectorFormat(int code, int bytesPerElement) {
        this.code = code;
        this.bytesPerElement = bytesPerElement;
    }

    /** The number written in segment headers. */
    public int code() {
        return code;
    }

    public int bytesPerElement() {
        return bytesPerElement;
    }

    public static VectorFormat ofCode(int code) {
        for (VectorFormat format : values()) {
            if (format.code == code) {
                return format;
            }
        }
        throw new IllegalArgumentException("unknown vector format code " + code + " in segment header");
    }
}
