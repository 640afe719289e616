package dev.arbor.decoder;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One layer's keys and values, off-heap and position-major ({@code [position][kvHead][headSize]}), so the
 * first {@code n} positions are one contiguous slice ONNX Runtime reads without a copy. Each kv head's
 * keys are also indexed by a {@link KeyTree}, kept current on every append so any request may use tree
 * attention.
 */
final class KvCache {
    private final int kvDim;
    private final List<KeyTree> trees = new ArrayList<>();
    private FloatBuffer keys;
    private FloatBuffer values;
    private int size;

    KvCache(int kvHeads, int headSize, int initialCapacity) {
        this.kvDim = kvHeads * headSize;
        for (int h = 0; h < kvHeads; h++) {
            trees.add(new KeyTree(headSize, kvHeads, h));
        }
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
        for (KeyTree tree : trees) {
            tree.grow(size, keys, values);
        }
    }

    /** The attention tree over one kv head's keys. */
    KeyTree tree(int kvHead) {
        return trees.get(kvHead);
    }

    /** The whole store, for reads by absolute position. */
    FloatBuffer allKeys() {
        return keys;
    }

    FloatBuffer allValues() {
        return values;
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
