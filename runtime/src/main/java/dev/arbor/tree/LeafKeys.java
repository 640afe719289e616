package dev.arbor.tree;

import java.util.Arrays;

/**
 * A full-precision copy of every leaf's keys in the leaf's member order, kept only for small key
 * dimensions (a decoder's head size, {@value #MAX_DIM} or less), where it costs no more than a few
 * 4-bit codes per key would save. A leaf scan then reads one contiguous run instead of gathering each
 * row from a random store position: with 8-float rows the cache misses of that gather, not the dot
 * products, were what grew with the context. Larger keys take the store's rows and {@link LeafCodes}.
 */
final class LeafKeys {
    /** Largest key dimension for which the copy is kept. */
    static final int MAX_DIM = 16;

    private final int dim;
    private final boolean kept;
    private float[][] keys = new float[16][];

    LeafKeys(int dim) {
        this.dim = dim;
        this.kept = dim <= MAX_DIM;
    }

    /** Whether this tree keeps the copy ({@link #keys} is only meaningful then). */
    boolean kept() {
        return kept;
    }

    /** Stores {@code key} as the leaf's {@code slot}-th key (its last member). */
    void append(int leaf, int slot, float[] key, int offset) {
        if (!kept) {
            return;
        }
        ensureLeaf(leaf);
        if (keys[leaf] == null) {
            keys[leaf] = new float[LeafCodes.GROWTH * dim];
        } else if (keys[leaf].length < (slot + 1) * dim) {
            keys[leaf] = Arrays.copyOf(keys[leaf], (slot + LeafCodes.GROWTH) * dim);
        }
        System.arraycopy(key, offset, keys[leaf], slot * dim, dim);
    }

    /** Replaces the leaf's keys by the first {@code count} rows of {@code rows}. */
    void rewrite(int leaf, float[] rows, int count) {
        if (!kept) {
            return;
        }
        ensureLeaf(leaf);
        int capacity = (count + LeafCodes.GROWTH - 1) / LeafCodes.GROWTH * LeafCodes.GROWTH;
        keys[leaf] = Arrays.copyOf(rows, capacity * dim);
        Arrays.fill(keys[leaf], count * dim, capacity * dim, 0f);
    }

    /** The leaf's keys, {@code [members][dim]} row-major (longer than its members; the tail is unused). */
    float[] keys(int leaf) {
        return keys[leaf];
    }

    long bytes() {
        if (!kept) {
            return 0;
        }
        long total = (long) keys.length * 8;
        for (float[] leaf : keys) {
            total += leaf == null ? 0 : 16 + (long) leaf.length * Float.BYTES;
        }
        return total;
    }

    private void ensureLeaf(int leaf) {
        if (leaf >= keys.length) {
            keys = Arrays.copyOf(keys, Math.max(leaf + 1, keys.length + (keys.length >> 1)));
        }
    }
}
