package dev.arbor.tree;

import java.util.Arrays;

/**
 * The few directions along which a leaf's keys vary most (its top principal components), by
 * subspace iteration on the centered keys; an instance is one tree's workspace for its fits. Contextual token vectors are strongly correlated across
 * dimensions within a leaf: the spread of q·k that dimensions taken as independent predict is about
 * 1.4 times too small on MiniLM keys, and wrong differently for each query, which is what misranked
 * leaves. The variance along these directions, added to the independent per-dimension remainder,
 * follows the true spread (see {@link TreeNodes#moments}).
 */
final class PrincipalDirections {
    /**
     * Directions every ranking of a node reads, fused with its sketch ({@link Dot#sketchMoments} reads
     * exactly two): two took the beam's reach at 64 leaves from 0.86 to 0.93 (MiniLM, 65K keys), four
     * to 0.94 for twice the bytes read per candidate.
     */
    static final int RANKED = 2;
    /**
     * Directions kept per node: the {@link #RANKED} ones and more, which only the candidates about to be
     * chosen read ({@link TreeNodes#fineSpread}). With exact principal directions of each leaf's keys,
     * the share of the top-64 in the best 56 of the beam's ~590 candidate leaves (MiniLM keys, 262,144)
     * was 0.853 with 2, 0.871 with 4, 0.883 with 8 and 0.884 with 16 (0.838 from the nodes' sketches
     * alone). Six more directions take 2.3 KB per node, about 27 bytes per key.
     */
    static final int COUNT = 8;
    private static final int ITERATIONS = 8;
    /**
     * Block power steps of {@link #refined}. Refining internal nodes' directions instead of fitting
     * them afresh took their refits from 9.2 to 4.3 µs per insert (MiniLM keys, 262,144, one step,
     * under load); one step cost 0.0015 of recall@64 (0.9152 against 0.9167), so two. Leaves refined
     * the same way lost more (0.9136 with two steps, 0.9075 with one) and are fitted afresh.
     */
    private static final int REFINE_STEPS = 2;
    /** The smallest key dimension at which a tree fits directions; see {@link #pay}. */
    static final int MIN_KEY_DIM = 128;

    private final int dim;
    /**
     * Scratch of the fits, grown to the most rows fitted: fresh arrays for every fit were most of what
     * a tree's inserts allocated (about 35 KB per MiniLM key with the arrays of splits and refits, a
     * young collection every half second or so).
     */
    private float[] centered = new float[0];
    private float[] gram = new float[0];
    private float[] weights = new float[0];
    private float[] next = new float[0];
    private final float[] mean;
    /** The directions being fitted, {@code [COUNT][dim]} in one array. */
    private final float[] basis;
    private final float[][] directions;

    PrincipalDirections(int dim) {
        this.dim = dim;
        this.mean = new float[dim];
        this.basis = new float[COUNT * dim];
        this.directions = new float[COUNT][dim];
    }

    /**
     * Whether directions pay for keys of this dimension: from {@link #MIN_KEY_DIM} up. Measured side by
     * side (one JVM, the same keys and queries, median search time per head at beam 64 with warm caches,
     * 2-core machine under load ~6, so the MiniLM times are rough; the recalls are exact):
     *
     * <table>
     * <caption>Principal directions on and off</caption>
     * <tr><th>keys</th><th>directions</th><th>recall@64</th><th>search ms</th><th>inserts/s</th></tr>
     * <tr><td>synthetic, dim 64, 262,144</td><td>on</td><td>0.995</td><td>1.21</td><td>34K</td></tr>
     * <tr><td></td><td>off</td><td>0.991</td><td>1.05</td><td>54–65K</td></tr>
     * <tr><td></td><td>off, beam 96</td><td>0.994</td><td>1.12</td><td></td></tr>
     * <tr><td>MiniLM tokens, dim 384, 262,144</td><td>on</td><td>0.851</td><td>4.7</td><td>11.7K</td></tr>
     * <tr><td></td><td>off</td><td>0.808</td><td>2.1</td><td>28.3K</td></tr>
     * <tr><td></td><td>on, beam 16</td><td>0.722</td><td>1.6</td><td></td></tr>
     * <tr><td></td><td>off, beam 32</td><td>0.728</td><td>1.7</td><td></td></tr>
     * </table>
     *
     * At dim 64 the synthetic keys' spread is nearly independent across dimensions, so the directions
     * buy 0.004 of recall, which beam 96 buys for less search time, and they halve inserts (the two
     * projections and the re-derived sketch on every node of an insert's path). MiniLM's 384
     * dimensions are strongly correlated and the directions are worth a doubled beam. Dimensions in
     * between are unmeasured; 128 is where they start.
     */
    static boolean pay(int keyDim) {
        return keyDim >= MIN_KEY_DIM;
    }

    /**
     * Unit directions {@code [COUNT][dim]}, largest variance first, of the {@code count} rows of
     * {@code keys} (zero vectors where the keys vary in fewer directions). Deterministic. The array is
     * this workspace's and holds them until its next fit.
     */
    float[][] of(float[] keys, int count) {
        centre(keys, count);
        // Subspace iteration on the Gram matrix C·Cᵀ of the centered rows C: its eigenvectors v give the
        // directions Cᵀv, and an iteration costs count² per direction instead of 2·count·dim, so the
        // COUNT directions cost about one product C·Cᵀ (a leaf's 64 keys of dim 384: 0.8M multiply-adds,
        // where iterating eight directions in key space took 3.1M). Rows of the Gram matrix and the
        // weights are a whole number of vectors long, zero past count, so its products need no tail.
        int stride = roundUp(count, RowProducts.LANES);
        gram = room(gram, count * stride);
        RowProducts.gram(centered, count, dim, gram, stride);
        for (int j = 0; j < count; j++) {
            Arrays.fill(gram, j * stride + count, (j + 1) * stride, 0f);
        }
        weights = room(weights, COUNT * stride);
        next = room(next, COUNT * stride);
        for (int r = 0; r < COUNT; r++) {
            // A fixed, dense start: every direction has a component along it except by accident.
            for (int i = 0; i < count; i++) {
                weights[r * stride + i] = (float) Math.sin(1.0 + 7.31 * i + 3.17 * r);
            }
            Arrays.fill(weights, r * stride + count, (r + 1) * stride, 0f);
        }
        for (int iteration = 0; iteration < ITERATIONS; iteration++) {
            RowProducts.combine(gram, count, stride, weights, stride, COUNT, next);
            float[] swap = weights;
            weights = next;
            next = swap;
            orthonormalise(weights, stride);
        }
        RowProducts.combine(centered, count, dim, weights, stride, COUNT, basis);
        orthonormalise(basis, dim);
        return directions();
    }

    /**
     * {@link #of} for keys whose directions are nearly known: {@code start}, unit directions fitted to
     * most of the same keys (a node's, before a few more keys arrived), refined by {@value #REFINE_STEPS}
     * block power steps U ← Cᵀ·(C·U) on the centered keys C, each 2·count·dim multiply-adds per
     * direction, where {@link #of} pays the Gram matrix's count²·dim / 2 and its iterations. Falls back
     * to {@link #of} when a start direction is zero (keys that varied in fewer directions). The result
     * is this workspace's, as {@link #of}'s.
     */
    float[][] refined(float[] keys, int count, float[][] start) {
        for (float[] direction : start) {
            if (Dot.dot(direction, 0, direction, 0, dim) == 0) {
                return of(keys, count);
            }
        }
        centre(keys, count);
        for (int r = 0; r < COUNT; r++) {
            System.arraycopy(start[r], 0, basis, r * dim, dim);
        }
        weights = room(weights, COUNT * count);
        for (int step = 0; step < REFINE_STEPS; step++) {
            // The coordinates of every key along every direction, then each direction's sum of keys by them.
            RowProducts.dots(basis, COUNT, centered, count, dim, weights, count);
            RowProducts.combine(centered, count, dim, weights, count, COUNT, basis);
            orthonormalise(basis, dim);
        }
        return directions();
    }

    /** Writes the rows of {@code keys} minus their mean to {@link #centered}. */
    private void centre(float[] keys, int count) {
        Arrays.fill(mean, 0f);
        for (int i = 0; i < count; i++) {
            Dot.add(keys, i * dim, mean, 0, dim);
        }
        for (int d = 0; d < dim; d++) {
            mean[d] /= count;
        }
        centered = room(centered, count * dim);
        for (int i = 0; i < count; i++) {
            Dot.difference(keys, i * dim, mean, centered, i * dim, dim);
        }
    }

    private float[][] directions() {
        for (int r = 0; r < COUNT; r++) {
            System.arraycopy(basis, r * dim, directions[r], 0, dim);
        }
        return directions;
    }

    /** {@code scratch}, or a larger array if it holds fewer than {@code length} floats. */
    private static float[] room(float[] scratch, int length) {
        return scratch.length >= length ? scratch : new float[length];
    }

    private static int roundUp(int value, int multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    /** Gram–Schmidt in order over the {@link #COUNT} vectors {@code vectors[r · length ..]}; one with nothing left is set to zero. */
    private static void orthonormalise(float[] vectors, int length) {
        for (int r = 0; r < COUNT; r++) {
            for (int s = 0; s < r; s++) {
                float overlap = Dot.dot(vectors, r * length, vectors, s * length, length);
                Dot.addScaled(vectors, s * length, -overlap, vectors, r * length, length);
            }
            float norm = (float) Math.sqrt(Dot.dot(vectors, r * length, vectors, r * length, length));
            float inverse = norm > 1e-20f ? 1f / norm : 0f;
            for (int d = r * length; d < (r + 1) * length; d++) {
                vectors[d] *= inverse;
            }
        }
    }
}
