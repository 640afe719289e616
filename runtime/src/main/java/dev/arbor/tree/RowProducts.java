package dev.arbor.tree;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matrix products a {@link PrincipalDirections} fit takes of a node's few rows, in loops where
 * every vector loaded feeds several multiply-adds: a dot product per entry ({@link Dot#dot}) loads
 * two vectors per multiply-add and sums each entry across its lanes, which left a leaf's fit waiting
 * on loads. Fitting the leaves of a tree of 65,536 MiniLM keys (85 keys of dim 384 on average, machine
 * under load): 290-470 µs per leaf with a dot product per entry, 95-145 µs with these (and the fit's
 * scratch kept between fits).
 */
final class RowProducts {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector: rows a whole number of vectors long leave {@link #combine} no scalar tail. */
    static final int LANES = SPECIES.length();
    /** Rows on each side of a block of dot products: 16 sums in registers, 8 loads per 16 multiply-adds. */
    static final int BLOCK = 4;
    /** Weight vectors one pass of {@link #combine} over the rows takes at once. */
    private static final int GROUP = 4;

    private RowProducts() {}

    /**
     * The Gram matrix C·Cᵀ of the first {@code count} rows of {@code rows} ({@code dim} floats each)
     * into {@code gram} at row stride {@code stride} (at least {@code count}).
     */
    static void gram(float[] rows, int count, int dim, float[] gram, int stride) {
        for (int i = 0; i < count; i += BLOCK) {
            for (int j = 0; j <= i; j += BLOCK) {
                block(rows, i, count, rows, j, count, dim, gram, stride, true);
            }
        }
    }

    /**
     * {@code into[i · stride + j] = a_i · b_j} for the first {@code aRows} rows of {@code a} and
     * {@code bRows} rows of {@code b} ({@code dim} floats each).
     */
    static void dots(float[] a, int aRows, float[] b, int bRows, int dim, float[] into, int stride) {
        for (int i = 0; i < aRows; i += BLOCK) {
            for (int j = 0; j < bRows; j += BLOCK) {
                block(a, i, aRows, b, j, bRows, dim, into, stride, false);
            }
        }
    }

    /**
     * The 4×4 block of dot products of rows i.. of a and j.. of b, and its mirror image if asked. A
     * block at the edge reads the last row again in place of the missing ones and writes only the
     * real ones.
     */
    private static void block(float[] a, int i, int aRows, float[] b, int j, int bRows, int dim, float[] into,
            int stride, boolean mirror) {
        FloatVector s00 = FloatVector.zero(SPECIES), s01 = s00, s02 = s00, s03 = s00;
        FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00;
        FloatVector s30 = s00, s31 = s00, s32 = s00, s33 = s00;
        int a0 = i * dim;
        int a1 = Math.min(i + 1, aRows - 1) * dim;
        int a2 = Math.min(i + 2, aRows - 1) * dim;
        int a3 = Math.min(i + 3, aRows - 1) * dim;
        int b0 = j * dim;
        int b1 = Math.min(j + 1, bRows - 1) * dim;
        int b2 = Math.min(j + 2, bRows - 1) * dim;
        int b3 = Math.min(j + 3, bRows - 1) * dim;
        int d = 0;
        for (int bound = SPECIES.loopBound(dim); d < bound; d += LANES) {
            FloatVector x0 = FloatVector.fromArray(SPECIES, a, a0 + d);
            FloatVector x1 = FloatVector.fromArray(SPECIES, a, a1 + d);
            FloatVector x2 = FloatVector.fromArray(SPECIES, a, a2 + d);
            FloatVector x3 = FloatVector.fromArray(SPECIES, a, a3 + d);
            FloatVector y0 = FloatVector.fromArray(SPECIES, b, b0 + d);
            FloatVector y1 = FloatVector.fromArray(SPECIES, b, b1 + d);
            FloatVector y2 = FloatVector.fromArray(SPECIES, b, b2 + d);
            FloatVector y3 = FloatVector.fromArray(SPECIES, b, b3 + d);
            s00 = x0.fma(y0, s00);
            s01 = x0.fma(y1, s01);
            s02 = x0.fma(y2, s02);
            s03 = x0.fma(y3, s03);
            s10 = x1.fma(y0, s10);
            s11 = x1.fma(y1, s11);
            s12 = x1.fma(y2, s12);
            s13 = x1.fma(y3, s13);
            s20 = x2.fma(y0, s20);
            s21 = x2.fma(y1, s21);
            s22 = x2.fma(y2, s22);
            s23 = x2.fma(y3, s23);
            s30 = x3.fma(y0, s30);
            s31 = x3.fma(y1, s31);
            s32 = x3.fma(y2, s32);
            s33 = x3.fma(y3, s33);
        }
        float[] sums = {
            s00.reduceLanes(VectorOperators.ADD), s01.reduceLanes(VectorOperators.ADD),
            s02.reduceLanes(VectorOperators.ADD), s03.reduceLanes(VectorOperators.ADD),
            s10.reduceLanes(VectorOperators.ADD), s11.reduceLanes(VectorOperators.ADD),
            s12.reduceLanes(VectorOperators.ADD), s13.reduceLanes(VectorOperators.ADD),
            s20.reduceLanes(VectorOperators.ADD), s21.reduceLanes(VectorOperators.ADD),
            s22.reduceLanes(VectorOperators.ADD), s23.reduceLanes(VectorOperators.ADD),
            s30.reduceLanes(VectorOperators.ADD), s31.reduceLanes(VectorOperators.ADD),
            s32.reduceLanes(VectorOperators.ADD), s33.reduceLanes(VectorOperators.ADD)
        };
        int[] aStarts = {a0, a1, a2, a3};
        int[] bStarts = {b0, b1, b2, b3};
        for (int p = 0; p < BLOCK && i + p < aRows; p++) {
            for (int q = 0; q < BLOCK && j + q < bRows; q++) {
                float sum = sums[p * BLOCK + q];
                for (int e = d; e < dim; e++) {
                    sum += a[aStarts[p] + e] * b[bStarts[q] + e];
                }
                into[(i + p) * stride + j + q] = sum;
                if (mirror) {
                    into[(j + q) * stride + i + p] = sum;
                }
            }
        }
    }

    /**
     * {@code into[r · dim ..] = Σ_i weights[r · stride + i] · row_i} over the first {@code count} rows of
     * {@code rows} ({@code dim} floats each), for {@code vectors} weight vectors: each row's vector is
     * loaded once for a group of them. With a symmetric Gram matrix as the rows (row length its stride)
     * this is the matrix times each weight vector, the step of a subspace iteration.
     */
    static void combine(float[] rows, int count, int dim, float[] weights, int stride, int vectors, float[] into) {
        int bound = SPECIES.loopBound(dim);
        int r = 0;
        for (; r + GROUP <= vectors; r += GROUP) {
            int w0 = r * stride, w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
            for (int d = 0; d < bound; d += LANES) {
                FloatVector t0 = FloatVector.zero(SPECIES), t1 = t0, t2 = t0, t3 = t0;
                for (int i = 0; i < count; i++) {
                    FloatVector x = FloatVector.fromArray(SPECIES, rows, i * dim + d);
                    t0 = x.fma(FloatVector.broadcast(SPECIES, weights[w0 + i]), t0);
                    t1 = x.fma(FloatVector.broadcast(SPECIES, weights[w1 + i]), t1);
                    t2 = x.fma(FloatVector.broadcast(SPECIES, weights[w2 + i]), t2);
                    t3 = x.fma(FloatVector.broadcast(SPECIES, weights[w3 + i]), t3);
                }
                t0.intoArray(into, r * dim + d);
                t1.intoArray(into, (r + 1) * dim + d);
                t2.intoArray(into, (r + 2) * dim + d);
                t3.intoArray(into, (r + 3) * dim + d);
            }
        }
        for (; r < vectors; r++) {
            for (int d = 0; d < bound; d += LANES) {
                FloatVector t = FloatVector.zero(SPECIES);
                for (int i = 0; i < count; i++) {
                    t = FloatVector.fromArray(SPECIES, rows, i * dim + d)
                            .fma(FloatVector.broadcast(SPECIES, weights[r * stride + i]), t);
                }
                t.intoArray(into, r * dim + d);
            }
        }
        for (int d = bound; d < dim; d++) {
            for (r = 0; r < vectors; r++) {
                float sum = 0;
                for (int i = 0; i < count; i++) {
                    sum += weights[r * stride + i] * rows[i * dim + d];
                }
                into[r * dim + d] = sum;
            }
        }
    }
}
