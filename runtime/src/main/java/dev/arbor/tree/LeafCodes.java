package dev.arbor.tree;

import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A compact int8 copy of every leaf's keys, stored in the leaf's member order so a leaf is one
 * contiguous run of bytes. Approximate search scores many leaves from it instead of gathering fp32
 * rows from random store positions (one cache miss or more per key), then reranks the best
 * candidates exactly. Each key has its own scale (max |k_d| / 127), so the code error of q·k is at
 * most |q|₁·scale/2. A split rewrites the two leaves' codes, O(leaf) like the split itself.
 */
final class LeafCodes {
    private static final VectorSpecies<Byte> BYTES = ByteVector.SPECIES_64;
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_256;

    private final int dim;
    private final int leafCapacity;
    private byte[][] codes = new byte[16][];
    private float[][] scales = new float[16][];

    LeafCodes(int dim, int leafCapacity) {
        this.dim = dim;
        this.leafCapacity = leafCapacity;
    }

    /** Appends the code of {@code key} at the leaf's next slot, {@code slot}. */
    void set(int leaf, int slot, float[] key, int offset) {
        if (leaf >= codes.length) {
            int size = Math.max(leaf + 1, codes.length * 2);
            codes = Arrays.copyOf(codes, size);
            scales = Arrays.copyOf(scales, size);
        }
        if (codes[leaf] == null) {
            codes[leaf] = new byte[leafCapacity * dim];
            scales[leaf] = new float[leafCapacity];
        }
        float largest = 0;
        for (int d = 0; d < dim; d++) {
            largest = Math.max(largest, Math.abs(key[offset + d]));
        }
        float scale = largest / 127f;
        float inverse = scale == 0 ? 0 : 1f / scale;
        byte[] leafCodes = codes[leaf];
        for (int d = 0; d < dim; d++) {
            leafCodes[slot * dim + d] = (byte) Math.round(key[offset + d] * inverse);
        }
        scales[leaf][slot] = scale;
    }

    /** Approximate q·k for the first {@code count} keys of the leaf, into {@code scores}. */
    void score(float[] query, int leaf, int count, float[] scores) {
        byte[] leafCodes = codes[leaf];
        float[] leafScales = scales[leaf];
        int lanes = FLOATS.length();
        int vectorDim = dim - dim % lanes;
        for (int i = 0; i < count; i++) {
            int base = i * dim;
            FloatVector sum = FloatVector.zero(FLOATS);
            for (int d = 0; d < vectorDim; d += lanes) {
                FloatVector code = (FloatVector) ByteVector.fromArray(BYTES, leafCodes, base + d)
                        .convertShape(VectorOperators.B2F, FLOATS, 0);
                sum = code.fma(FloatVector.fromArray(FLOATS, query, d), sum);
            }
            float total = sum.reduceLanes(VectorOperators.ADD);
            for (int d = vectorDim; d < dim; d++) {
                total += query[d] * leafCodes[base + d];
            }
            scores[i] = total * leafScales[i];
        }
    }

    long bytes() {
        long total = (long) codes.length * 2 * 16;
        for (int leaf = 0; leaf < codes.length; leaf++) {
            if (codes[leaf] != null) {
                total += codes[leaf].length + (long) scales[leaf].length * Float.BYTES;
            }
        }
        return total;
    }
}
