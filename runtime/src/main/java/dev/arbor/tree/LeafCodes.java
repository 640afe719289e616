package dev.arbor.tree;

import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A compact 4-bit copy of every leaf's keys, stored in the leaf's member order so a leaf is one
 * contiguous run of bytes. Approximate search scores many leaves from it instead of gathering fp32
 * rows from random store positions (one cache miss or more per key), then reranks the best
 * candidates exactly.
 *
 * <p>The keys of a leaf are one content cluster, so each leaf has its own grid: per dimension an
 * offset and a step, 16 levels spanning the leaf's keys plus a margin. On that grid 4 bits are about
 * as precise as 8 bits with one global scale per key, at half the bytes; a key's code error in
 * dimension d is at most step_d / 2. A key outside the grid widens it (with a fresh margin, so
 * widening is rare) and re-levels the widened dimensions of the leaf's codes from their old levels,
 * which adds at most half a new step of error per widening (the steps grow geometrically, so the
 * error stays within a few steps); a split re-encodes the two halves exactly, from the store's keys,
 * on grids fitted to them. Codes grow with the leaf in steps of
 * {@value #GROWTH} keys, so a leaf's bytes follow its fill, not its capacity.
 *
 * <p>Layout: a key takes {@code half = ⌈dim/2⌉} bytes; byte j holds dimension j in its low nibble
 * and dimension j + half in its high nibble, so one load feeds two contiguous runs of the query.
 */
final class LeafCodes {
    private static final VectorSpecies<Byte> BYTES = ByteVector.SPECIES_64;
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_256;
    private static final int LEVELS = 15;
    /** Keys a leaf's code array grows by. */
    static final int GROWTH = 8;
    /** A fitted or widened grid reaches this fraction of its span beyond the keys on each side. */
    private static final float MARGIN = 0.25f;
    private static final int LINE_BYTES = 64;

    private final int dim;
    private final int half;
    /** Query-side arrays are padded to this length so the vector loop needs no tail over the high nibbles. */
    private final int padded;
    private byte[][] codes = new byte[16][];
    /** Scratch of {@link #widen}: the new level of each old level of a widened dimension. */
    private final byte[] relevel = new byte[LEVELS + 1];
    /** Per leaf, per dimension: the grid's lowest level and its step. */
    private float[][] offsets = new float[16][];
    private float[][] steps = new float[16][];

    LeafCodes(int dim) {
        this.dim = dim;
        this.half = (dim + 1) / 2;
        this.padded = half + roundUp(half, FLOATS.length());
    }

    /**
     * Codes {@code key} as the leaf's {@code slot}-th key (its last member). If the key lies outside the
     * leaf's grid, the grid widens and the other members are re-levelled in the widened dimensions.
     */
    void append(int leaf, int slot, float[] key, int offset) {
        ensureLeaf(leaf);
        if (slot == 0) {
            fit(leaf, key, offset, 1);
        } else {
            widen(leaf, key, offset, slot);
        }
        ensureSlots(leaf, slot + 1);
        encode(leaf, slot, key, offset);
    }

    /** Replaces the leaf's codes by {@code count} keys (rows of {@code keys}), on a grid fitted to them. */
    void rewrite(int leaf, float[] keys, int count) {
        ensureLeaf(leaf);
        fit(leaf, keys, 0, count);
        codes[leaf] = new byte[roundUp(count, GROWTH) * half];
        for (int i = 0; i < count; i++) {
            encode(leaf, i, keys, i * dim);
        }
    }

    /** Approximate q·k for the first {@code count} keys of the leaf, into {@code scores}. */
    void score(float[] query, int leaf, int count, float[] scores) {
        float[] offset = offsets[leaf];
        float[] step = steps[leaf];
        // q·k ≈ q·offset + Σ_d (q_d step_d) code_d: the grid folds into the query once per leaf.
        float[] weights = new float[padded];
        float base = 0;
        for (int d = 0; d < dim; d++) {
            base += query[d] * offset[d];
            int slot = d < half ? d : d - half + roundUp(half, FLOATS.length());
            weights[slot] = query[d] * step[d];
        }
        byte[] leafCodes = codes[leaf];
        int lanes = FLOATS.length();
        int high = roundUp(half, lanes);
        int vectorHalf = half - half % lanes;
        for (int i = 0; i < count; i++) {
            int start = i * half;
            FloatVector sum = FloatVector.zero(FLOATS);
            for (int j = 0; j < vectorHalf; j += lanes) {
                ByteVector packed = ByteVector.fromArray(BYTES, leafCodes, start + j);
                FloatVector low = (FloatVector) packed.and((byte) 0x0F).convertShape(VectorOperators.B2F, FLOATS, 0);
                FloatVector up = (FloatVector) packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F)
                        .convertShape(VectorOperators.B2F, FLOATS, 0);
                sum = low.fma(FloatVector.fromArray(FLOATS, weights, j), sum);
                sum = up.fma(FloatVector.fromArray(FLOATS, weights, high + j), sum);
            }
            float total = sum.reduceLanes(VectorOperators.ADD);
            for (int j = vectorHalf; j < half; j++) {
                int packed = leafCodes[start + j];
                total += weights[j] * (packed & 0x0F) + weights[high + j] * ((packed >>> 4) & 0x0F);
            }
            scores[i] = base + total;
        }
    }

    /**
     * Loads one byte of each cache line that {@link #score} reads for the leaf's first {@code count}
     * keys (its codes and its grid), and returns their sum: see {@link TreeSearcher#prefetchLeaves}.
     */
    int touch(int leaf, int count) {
        byte[] leafCodes = codes[leaf];
        int sum = 0;
        for (int i = 0, end = count * half; i < end; i += LINE_BYTES) {
            sum += leafCodes[i];
        }
        float[] offset = offsets[leaf];
        float[] step = steps[leaf];
        for (int d = 0; d < dim; d += LINE_BYTES / Float.BYTES) {
            sum += (int) offset[d] + (int) step[d];
        }
        return sum;
    }

    /** The largest code error of a key of the leaf in dimension d: half a grid step. */
    float halfStep(int leaf, int d) {
        return steps[leaf][d] / 2;
    }

    long bytes() {
        long total = (long) codes.length * 3 * 16;
        for (int leaf = 0; leaf < codes.length; leaf++) {
            if (codes[leaf] != null) {
                total += 16 + codes[leaf].length + 2L * (16 + (long) dim * Float.BYTES);
            }
        }
        return total;
    }

    private void fit(int leaf, float[] keys, int start, int count) {
        float[] lowest = new float[dim];
        float[] highest = new float[dim];
        System.arraycopy(keys, start, lowest, 0, dim);
        System.arraycopy(keys, start, highest, 0, dim);
        for (int i = 1; i < count; i++) {
            Dot.widenBox(keys, start + i * dim, lowest, highest, dim);
        }
        for (int d = 0; d < dim; d++) {
            float margin = (highest[d] - lowest[d]) * MARGIN;
            setGrid(offsets[leaf], steps[leaf], d, lowest[d] - margin, highest[d] + margin);
        }
    }

    private void widen(int leaf, float[] key, int keyOffset, int count) {
        float[] offset = offsets[leaf];
        float[] step = steps[leaf];
        if (insideGrid(offset, step, key, keyOffset)) {
            return;
        }
        for (int d = 0; d < dim; d++) {
            float x = key[keyOffset + d];
            float lowest = offset[d];
            float highest = offset[d] + step[d] * LEVELS;
            if (x >= lowest && x <= highest) {
                continue;
            }
            float oldOffset = offset[d];
            float oldStep = step[d];
            float newLowest = Math.min(lowest, x);
            float newHighest = Math.max(highest, x);
            float margin = (newHighest - newLowest) * MARGIN;
            setGrid(offset, step, d, x < lowest ? newLowest - margin : newLowest,
                    x > highest ? newHighest + margin : newHighest);
            // Re-level the members from their old codes: no store reads, at most half a new step more error.
            // An old level maps to one new level, so the map is worked out once per level, not per member
            // (MiniLM keys widen about 3 dimensions per insert; re-levelling member by member took 3-6 µs).
            for (int old = 0; old <= LEVELS; old++) {
                relevel[old] = (byte) level(offset, step, d, oldOffset + oldStep * old);
            }
            byte[] leafCodes = codes[leaf];
            int shift = d < half ? 0 : 4;
            for (int index = d < half ? d : d - half, end = count * half; index < end; index += half) {
                int packed = leafCodes[index];
                int level = relevel[(packed >>> shift) & 0x0F];
                leafCodes[index] = (byte) ((packed & ~(0x0F << shift)) | (level << shift));
            }
        }
    }

    private static void setGrid(float[] offset, float[] step, int d, float lowest, float highest) {
        offset[d] = lowest;
        // Round the step up so the top level reaches the highest key despite float rounding.
        step[d] = Math.nextUp((highest - lowest) / LEVELS);
        if (highest == lowest) {
            step[d] = 0;
        }
    }

    private void encode(int leaf, int slot, float[] key, int keyOffset) {
        float[] offset = offsets[leaf];
        float[] step = steps[leaf];
        int lanes = FLOATS.length();
        if (half % lanes != 0 || dim != 2 * half) {
            for (int d = 0; d < dim; d++) {
                setNibble(leaf, slot, d, level(offset, step, d, key[keyOffset + d]));
            }
            return;
        }
        byte[] leafCodes = codes[leaf];
        for (int j = 0; j < half; j += lanes) {
            ByteVector low = levels(offset, step, key, keyOffset, j);
            ByteVector high = levels(offset, step, key, keyOffset, half + j);
            low.or(high.lanewise(VectorOperators.LSHL, 4)).intoArray(leafCodes, slot * half + j);
        }
    }

    /** The grid levels of dimensions {@code d .. d + lanes}, as bytes: what {@link #level} gives one by one. */
    private static ByteVector levels(float[] offset, float[] step, float[] key, int keyOffset, int d) {
        FloatVector steps = FloatVector.fromArray(FLOATS, step, d);
        FloatVector inverse = FloatVector.broadcast(FLOATS, 1f).div(steps)
                .blend(0f, steps.compare(VectorOperators.EQ, 0f));
        FloatVector level = FloatVector.fromArray(FLOATS, key, keyOffset + d)
                .sub(FloatVector.fromArray(FLOATS, offset, d))
                .mul(inverse)
                .max(0f)
                .min(LEVELS)
                .add(0.5f);
        return (ByteVector) level.convertShape(VectorOperators.F2B, BYTES, 0);
    }

    private boolean insideGrid(float[] offset, float[] step, float[] key, int keyOffset) {
        int lanes = FLOATS.length();
        int d = 0;
        for (int bound = dim - dim % lanes; d < bound; d += lanes) {
            FloatVector x = FloatVector.fromArray(FLOATS, key, keyOffset + d);
            FloatVector lowest = FloatVector.fromArray(FLOATS, offset, d);
            FloatVector highest = FloatVector.fromArray(FLOATS, step, d).mul(LEVELS).add(lowest);
            if (x.compare(VectorOperators.LT, lowest).or(x.compare(VectorOperators.GT, highest)).anyTrue()) {
                return false;
            }
        }
        for (; d < dim; d++) {
            float x = key[keyOffset + d];
            if (x < offset[d] || x > offset[d] + step[d] * LEVELS) {
                return false;
            }
        }
        return true;
    }

    private static int level(float[] offset, float[] step, int d, float x) {
        if (step[d] == 0) {
            return 0;
        }
        return Math.clamp(Math.round((x - offset[d]) / step[d]), 0, LEVELS);
    }

    private void setNibble(int leaf, int slot, int d, int level) {
        byte[] leafCodes = codes[leaf];
        int index = slot * half + (d < half ? d : d - half);
        int shift = d < half ? 0 : 4;
        leafCodes[index] = (byte) ((leafCodes[index] & ~(0x0F << shift)) | (level << shift));
    }

    private void ensureLeaf(int leaf) {
        if (leaf >= codes.length) {
            int size = Math.max(leaf + 1, codes.length * 2);
            codes = Arrays.copyOf(codes, size);
            offsets = Arrays.copyOf(offsets, size);
            steps = Arrays.copyOf(steps, size);
        }
        if (codes[leaf] == null) {
            codes[leaf] = new byte[GROWTH * half];
            offsets[leaf] = new float[dim];
            steps[leaf] = new float[dim];
        }
    }

    private void ensureSlots(int leaf, int slots) {
        if (codes[leaf].length < slots * half) {
            codes[leaf] = Arrays.copyOf(codes[leaf], roundUp(slots, GROWTH) * half);
        }
    }

    private static int roundUp(int value, int multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }
}
