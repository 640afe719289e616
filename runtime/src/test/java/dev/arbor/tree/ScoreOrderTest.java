package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ScoreOrderTest {
    private static final float[] SPECIAL = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f};

    @Test
    void keysSortBestScoreFirstThenLowerIndexAndGiveBothBack() {
        Random random = new Random(7);
        int count = 500;
        float[] scores = new float[count];
        for (int i = 0; i < count; i++) {
            // Few distinct values, so that ties are common; and the special floats.
            scores[i] = i < SPECIAL.length ? SPECIAL[i] : (random.nextInt(41) - 20) / 4f;
        }
        long[] keys = new long[count];
        Integer[] expected = new Integer[count];
        for (int i = 0; i < count; i++) {
            keys[i] = ScoreOrder.key(scores[i], i);
            expected[i] = i;
        }
        Arrays.sort(keys);
        Arrays.sort(expected, Comparator.<Integer, Float>comparing(i -> scores[i]).reversed()
                .thenComparingInt(i -> i));

        for (int rank = 0; rank < count; rank++) {
            int index = ScoreOrder.index(keys[rank]);
            assertEquals(expected[rank], index, "rank " + rank);
            assertEquals(Float.floatToIntBits(scores[index]), Float.floatToIntBits(ScoreOrder.score(keys[rank])),
                    "score of index " + index);
        }
    }
}
