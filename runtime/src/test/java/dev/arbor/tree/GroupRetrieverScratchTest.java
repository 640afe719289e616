package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The search's selection of the best candidates against popping them one by one from its heap. */
class GroupRetrieverScratchTest {

    @Test
    void selectBestKeepsWhatTheHeapWouldPopInTheSameOrder() {
        Random random = new Random(5);
        for (int trial = 0; trial < 200; trial++) {
            int count = 1 + random.nextInt(200);
            int keep = random.nextInt(count + 3);
            float[] scores = new float[count];
            for (int i = 0; i < count; i++) {
                // Few distinct values, infinities and signed zeros: ties must go to the lower index.
                scores[i] = switch (random.nextInt(6)) {
                    case 0 -> Float.NEGATIVE_INFINITY;
                    case 1 -> -0f;
                    case 2 -> 0f;
                    default -> random.nextInt(20) - 10;
                };
            }
            GroupRetriever.Scratch scratch = new GroupRetriever.Scratch();
            scratch.rank(scores, count);
            int kept = Math.min(keep, count);
            int[] popped = new int[kept];
            for (int rank = 0; rank < kept; rank++) {
                popped[rank] = scratch.nextBest();
            }
            scratch.selectBest(scores, count, keep);

            assertArrayEquals(popped, Arrays.copyOf(scratch.best, kept), "trial " + trial + ": " + count + " scores, keep " + keep);
            int marked = 0;
            for (int i = 0; i < count; i++) {
                marked += scratch.taken[i];
            }
            assertEquals(kept, marked, "trial " + trial + ": exactly the kept indices are marked taken");
            for (int i : popped) {
                assertEquals(1, scratch.taken[i], "trial " + trial + ": kept index " + i + " is marked taken");
            }
        }
    }
}
