package dev.arbor.tree;

import java.util.Arrays;

/**
 * A full-precision copy of every leaf's keys and values in the leaf's member order, kept only for small
 * key dimensions (a decoder's head size, {@value #MAX_DIM} or less), where it costs no more than a few
 * 4-bit codes per key would save. A leaf scan then reads one contiguous run of keys instead of gathering
 * each row from a random store position, and the values of the keys a leaf's remainder leaves out sit
 * next to each other too: with 8-float rows the cache misses of those gathers, not the arithmetic, were
 * what grew with the context. Larger keys take the store's rows and {@link LeafCodes}.
 */
final class LeafRows {
    /** Largest key dimension for which the copy is kept. */
    static final int MAX_DIM = 16;

    private final int dim;
    private final int valueDim;
    private final boolean kept;
    private float[][] keys = new float[16][];
    private float[][] values = new float[16][];

    LeafRows(int dim, int valueDim) {
        this.dim = dim;
        this.valueDim = valueDim;
        this.kept = dim <= MAX_DIM;
    }

    /** Whether this tree keeps the copy ({@link #keys} and {@link #values} are only meaningful then). */
    boolean kept() {
        return kept;
    }

    /** Stores {@code key} and {@code value} as the leaf's {@code slot}-th row (its last member). */
    void append(int leaf, int slot, float[] key, float[] value) {
        if (!kept) {
            return;
        }
        ensureLeaf(leaf);
        keys[leaf] = room(keys[leaf], slot, dim);
        values[leaf] = room(values[leaf], slot, valueDim);
        System.arraycopy(key, 0, keys[leaf], slot * dim, dim);
        System.arraycopy(value, 0, values[leaf], slot * valueDim, valueDim);
    }

    /** Replaces the leaf's rows by the first {@code count} rows of {@code keyRows} and {@code valueRows}. */
    void rewrite(int leaf, float[] keyRows, float[] valueRows, int count) {
        if (!kept) {
            return;
        }
        ensureLeaf(leaf);
        int capacity = (count + LeafCodes.GROWTH - 1) / LeafCodes.GROWTH * LeafCodes.GROWTH;
        keys[leaf] = Arrays.copyOf(keyRows, capacity * dim);
        Arrays.fill(keys[leaf], count * dim, capacity * dim, 0f);
        values[leaf] = Arrays.copyOf(valueRows, capacity * valueDim);
        Arrays.fill(values[leaf], count * valueDim, capacity * valueDim, 0f);
    }

    /** The leaf's keys, {@code [members][dim]} row-major (longer than its members; the tail is unused). */
    float[] keys(int leaf) {
        return keys[leaf];
    }

    /** The leaf's values, {@code [members][valueDim]} row-major, in the order of {@link #keys}. */
    float[] values(int leaf) {
        return values[leaf];
    }

    long bytes() {
        if (!kept) {
            return 0;
        }
        long total = (long) keys.length * 16;
        for (int leaf = 0; leaf < keys.length; leaf++) {
            total += keys[leaf] == null ? 0 : 16 + (long) keys[leaf].length * Float.BYTES;
            total += values[leaf] == null ? 0 : 16 + (long) values[leaf].length * Float.BYTES;
        }
        return total;
    }

    private static float[] room(float[] rows, int slot, int width) {
        if (rows == null) {
            return new float[LeafCodes.GROWTH * width];
        }
        return rows.length < (slot + 1) * width ? Arrays.copyOf(rows, (slot + LeafCodes.GROWTH) * width) : rows;
    }

    private void ensureLeaf(int leaf) {
        if (leaf >= keys.length) {
            int capacity = Math.max(leaf + 1, keys.length + (keys.length >> 1));
            keys = Arrays.copyOf(keys, capacity);
            values = Arrays.copyOf(values, capacity);
        }
    }
}
