package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The blocked products against plain loops, at sizes that leave partial 4×4 blocks, partial weight groups and
 * a tail of dimensions past the last whole vector; combining a Gram matrix's rows is the subspace iteration
 * {@link PrincipalDirections} runs.
 */
class RowProductsTest {
    private static final double TOLERANCE = 1e-4;

    @ParameterizedTest
    @CsvSource({"1, 1", "3, 7", "5, 17", "13, 64", "85, 384", "128, 65"})
    void gramIsEveryPairOfRowsDotted(int count, int dim) {
        float[] rows = random(count * dim, 1);
        int stride = count + 3;
        float[] gram = new float[count * stride];

        RowProducts.gram(rows, count, dim, gram, stride);

        for (int i = 0; i < count; i++) {
            for (int j = 0; j < count; j++) {
                assertEquals(dot(rows, i, rows, j, dim), gram[i * stride + j], TOLERANCE * dim, "entry " + i + "," + j);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"1, 2, 3", "3, 5, 17", "8, 13, 64", "6, 85, 384"})
    void dotsAreEveryRowOfOneSideDottedWithEveryRowOfTheOther(int aRows, int bRows, int dim) {
        float[] a = random(aRows * dim, 2);
        float[] b = random(bRows * dim, 3);
        float[] into = new float[aRows * bRows];

        RowProducts.dots(a, aRows, b, bRows, dim, into, bRows);

        for (int i = 0; i < aRows; i++) {
            for (int j = 0; j < bRows; j++) {
                assertEquals(dot(a, i, b, j, dim), into[i * bRows + j], TOLERANCE * dim, "entry " + i + "," + j);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"1, 1", "5, 3", "13, 8", "85, 6"})
    void combiningGramRowsAppliesTheSymmetricGramMatrixToEachWeightVector(int count, int vectors) {
        int stride = RowProducts.LANES * ((count + RowProducts.LANES - 1) / RowProducts.LANES);
        float[] rows = random(count * 11, 4);
        float[] gram = new float[count * stride];
        RowProducts.gram(rows, count, 11, gram, stride);
        float[] weights = new float[vectors * stride];
        float[] values = random(vectors * count, 5);
        for (int r = 0; r < vectors; r++) {
            System.arraycopy(values, r * count, weights, r * stride, count);
        }
        float[] into = new float[vectors * stride];

        RowProducts.combine(gram, count, stride, weights, stride, vectors, into);

        for (int r = 0; r < vectors; r++) {
            for (int i = 0; i < count; i++) {
                double expected = 0;
                for (int j = 0; j < count; j++) {
                    expected += (double) gram[i * stride + j] * weights[r * stride + j];
                }
                assertEquals(expected, into[r * stride + i], TOLERANCE * count * 11, "vector " + r + ", entry " + i);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"1, 1, 3", "5, 3, 17", "13, 8, 64", "85, 6, 384", "7, 5, 65"})
    void combineSumsTheRowsWeightedByEachWeightVector(int count, int vectors, int dim) {
        float[] rows = random(count * dim, 6);
        int stride = count + 2;
        float[] weights = random(vectors * stride, 7);
        float[] into = new float[vectors * dim];

        RowProducts.combine(rows, count, dim, weights, stride, vectors, into);

        for (int r = 0; r < vectors; r++) {
            for (int d = 0; d < dim; d++) {
                double expected = 0;
                for (int i = 0; i < count; i++) {
                    expected += (double) weights[r * stride + i] * rows[i * dim + d];
                }
                assertEquals(expected, into[r * dim + d], TOLERANCE * count, "vector " + r + ", dimension " + d);
            }
        }
    }

    private static double dot(float[] a, int i, float[] b, int j, int dim) {
        double sum = 0;
        for (int d = 0; d < dim; d++) {
            sum += (double) a[i * dim + d] * b[j * dim + d];
        }
        return sum;
    }

    private static float[] random(int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
