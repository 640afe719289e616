package dev.arbor.decoder;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * One layer's keys and values, off-heap and position-major ({@code [position][kvHead][headSize]}), so the
 * first {@code n} positions are one contiguous slice ONNX Runtime reads without a copy.
 */
final class KvCache {
    private final int kvDim;
    private FloatBuffer keys;
    private FloatBuffer values;
    private int size;

    KvCache(int kvDim, int initialCapacity) {
        this.kvDim = kvDim;
        this.keys = allocate((long) kvDim * initialCapacity);
        this.values = allocate((long) kvDim * initialCapacity);
    }

    /** Appends {@code T} positions given as {@code [T][kvDim]} row-major arrays. */
    void append(FloatBuffer newKeys, FloatBuffer newValues) {
        int count = newKeys.remaining() / kvDim;
        ensureCapacity(size + count);
        keys.put(size * kvDim, newKeys, newKeys.position(), newKeys.remaining());
        values.put(size * kvDim, newValues, newValues.position(), newValues.remaining());
        size += count;
    }

    int size() {
        return size;
    }

    /** The first {@code size} positions' keys, as a view over the off-heap store. */
    FloatBuffer keys() {
        return keys.slice(0, size * kvDim);
    }

    FloatBuffer values() {
        return values.slice(0, size * kvDim);
    }

    private void ensureCapacity(int positions) {
        long needed = (long) positions * kvDim;
        if (needed > keys.capacity()) {
            long capacity = Math.max(needed, 2L * keys.capacity());
            if (capacity > Integer.MAX_VALUE) {
                throw new IllegalStateException("context of " + positions + " positions exceeds one layer's store");
            }
            keys = grow(keys, capacity);
            values = grow(values, capacity);
        }
    }

    private FloatBuffer grow(FloatBuffer old, long capacity) {
        FloatBuffer bigger = allocate(capacity);
        bigger.put(0, old, 0, size * kvDim);
        return bigger;
    }

    private static FloatBuffer allocate(long floats) {
        return ByteBuffer.allocateDirect(Math.toIntExact(floats * Float.BYTES)).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
