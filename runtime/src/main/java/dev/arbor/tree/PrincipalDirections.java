package dev.arbor.tree;

/**
 * The few directions along which a leaf's keys vary most (its top principal components), by
 * subspace iteration on the centered keys. Contextual token vectors are strongly correlated across
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

    private PrincipalDirections() {}

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
     * {@code keys} (zero vectors where the keys vary in fewer directions). Deterministic.
     */
    static float[][] of(float[] keys, int count, int dim) {
        float[] centered = centered(keys, count, dim);
        // Subspace iteration on the Gram matrix C·Cᵀ of the centered rows C: its eigenvectors v give the
        // directions Cᵀv, and an iteration costs count² per direction instead of 2·count·dim, so the
        // COUNT directions cost about one product C·Cᵀ (a leaf's 64 keys of dim 384: 0.8M multiply-adds,
        // where iterating eight directions in key space took 3.1M).
        float[] gram = new float[count * count];
        for (int i = 0; i < count; i++) {
            for (int j = 0; j <= i; j++) {
                float product = Dot.dot(centered, i * dim, centered, j * dim, dim);
                gram[i * count + j] = product;
                gram[j * count + i] = product;
            }
        }
        float[][] weights = new float[COUNT][count];
        for (int r = 0; r < COUNT; r++) {
            // A fixed, dense start: every direction has a component along it except by accident.
            for (int i = 0; i < count; i++) {
                weights[r][i] = (float) Math.sin(1.0 + 7.31 * i + 3.17 * r);
            }
        }
        for (int iteration = 0; iteration < ITERATIONS; iteration++) {
            for (int r = 0; r < COUNT; r++) {
                float[] next = new float[count];
                for (int i = 0; i < count; i++) {
                    next[i] = Dot.dot(gram, i * count, weights[r], 0, count);
                }
                weights[r] = next;
            }
            orthonormalise(weights, count);
        }
        float[][] directions = new float[COUNT][dim];
        for (int r = 0; r < COUNT; r++) {
            for (int i = 0; i < count; i++) {
                Dot.addScaled(centered, i * dim, weights[r][i], directions[r], dim);
            }
        }
        orthonormalise(directions, dim);
        return directions;
    }

    /**
     * {@link #of} for keys whose directions are nearly known: {@code start}, unit directions fitted to
     * most of the same keys (a node's, before a few more keys arrived), refined by {@value #REFINE_STEPS}
     * block power steps U ← Cᵀ·(C·U) on the centered keys C, each 2·count·dim multiply-adds per
     * direction, where {@link #of} pays the Gram matrix's count²·dim / 2 and its iterations. Falls back
     * to {@link #of} when a start direction is zero (keys that varied in fewer directions).
     */
    static float[][] refined(float[] keys, int count, int dim, float[][] start) {
        for (float[] direction : start) {
            if (Dot.dot(direction, 0, direction, 0, dim) == 0) {
                return of(keys, count, dim);
            }
        }
        float[] centered = centered(keys, count, dim);
        float[][] directions = start;
        float[] along = new float[count];
        for (int step = 0; step < REFINE_STEPS; step++) {
            float[][] next = new float[COUNT][dim];
            for (int r = 0; r < COUNT; r++) {
                for (int i = 0; i < count; i++) {
                    along[i] = Dot.dot(centered, i * dim, directions[r], 0, dim);
                }
                for (int i = 0; i < count; i++) {
                    Dot.addScaled(centered, i * dim, along[i], next[r], dim);
                }
            }
            orthonormalise(next, dim);
            directions = next;
        }
        return directions;
    }

    /** The rows of {@code keys} minus their mean. */
    private static float[] centered(float[] keys, int count, int dim) {
        float[] mean = new float[dim];
        for (int i = 0; i < count; i++) {
            Dot.add(keys, i * dim, mean, 0, dim);
        }
        for (int d = 0; d < dim; d++) {
            mean[d] /= count;
        }
        float[] centered = new float[count * dim];
        for (int i = 0; i < count; i++) {
            for (int d = 0; d < dim; d++) {
                centered[i * dim + d] = keys[i * dim + d] - mean[d];
            }
        }
        return centered;
    }

    /** Gram–Schmidt in order; a direction with nothing left is set to zero. */
    private static void orthonormalise(float[][] directions, int dim) {
        for (int r = 0; r < directions.length; r++) {
            for (int s = 0; s < r; s++) {
                float overlap = Dot.dot(directions[r], 0, directions[s], 0, dim);
                Dot.addScaled(directions[s], 0, -overlap, directions[r], dim);
            }
            float norm = (float) Math.sqrt(Dot.dot(directions[r], 0, directions[r], 0, dim));
            float inverse = norm > 1e-20f ? 1f / norm : 0f;
            for (int d = 0; d < dim; d++) {
                directions[r][d] *= inverse;
            }
        }
    }
}
