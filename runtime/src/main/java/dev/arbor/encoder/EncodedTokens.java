package dev.arbor.encoder;

import java.util.Arrays;

/**
 * Consecutive tokens of a document with their contextual vectors: token {@code firstToken + i} has
 * vocabulary id {@code ids[i]}, covers characters {@code [starts[i], ends[i])} of the whole document
 * (UTF-16 indices, counted from the document's first character), and its vector is
 * {@code vectors[i * dimension .. (i + 1) * dimension)}.
 */
public record EncodedTokens(long firstToken, long[] ids, long[] starts, long[] ends, float[] vectors, int dimension) {

    public EncodedTokens {
        if (ids.length != starts.length || ids.length != ends.length) {
            throw new IllegalArgumentException("ids, starts and ends must have one entry per token");
        }
        if (dimension <= 0 || vectors.length != ids.length * dimension) {
            throw new IllegalArgumentException("vectors must hold " + ids.length + " x " + dimension + " floats");
        }
    }

    /** No tokens, starting at {@code firstToken}. */
    public static EncodedTokens empty(long firstToken, int dimension) {
        return new EncodedTokens(firstToken, new long[0], new long[0], new long[0], new float[0], dimension);
    }

    public int size() {
        return ids.length;
    }

    public boolean isEmpty() {
        return ids.length == 0;
    }

    /** A copy of token {@code i}'s vector. */
    public float[] vector(int i) {
        return Arrays.copyOfRange(vectors, i * dimension, (i + 1) * dimension);
    }

    /** Accumulates tokens one by one; the encoder's way of building a batch. */
    static final class Builder {
        private final long firstToken;
        private final int dimension;
        private int size;
        private long[] ids = new long[256];
        private long[] starts = new long[256];
        private long[] ends = new long[256];
        private float[] vectors;

        Builder(long firstToken, int dimension) {
            this.firstToken = firstToken;
            this.dimension = dimension;
            this.vectors = new float[256 * dimension];
        }

        void add(long id, long start, long end, float[] vector) {
            if (size == ids.length) {
                ids = Arrays.copyOf(ids, size * 2);
                starts = Arrays.copyOf(starts, size * 2);
                ends = Arrays.copyOf(ends, size * 2);
                vectors = Arrays.copyOf(vectors, size * 2 * dimension);
            }
            ids[size] = id;
            starts[size] = start;
            ends[size] = end;
            System.arraycopy(vector, 0, vectors, size * dimension, dimension);
            size++;
        }

        EncodedTokens build() {
            return new EncodedTokens(firstToken, Arrays.copyOf(ids, size), Arrays.copyOf(starts, size),
                    Arrays.copyOf(ends, size), Arrays.copyOf(vectors, size * dimension), dimension);
        }
    }
}
