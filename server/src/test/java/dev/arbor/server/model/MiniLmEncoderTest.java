package dev.arbor.server.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.testing.SharedData;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MiniLmEncoderTest {
    static MiniLmEncoder encoder;

    @BeforeAll
    static void load() {
        encoder = new MiniLmEncoder(new SessionFactory(SessionSettings.defaults()));
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    @Test
    void vectorsAreUnitLengthAndRankAParaphraseAboveUnrelatedText() {
        float[][] v = encoder.encode(List.of(
                encoder.tokenize("Where is the treasure of the old captain hidden?"),
                encoder.tokenize("The captain buried his treasure beneath the lighthouse."),
                encoder.tokenize("She ordered a cup of green tea and a slice of cake.")));
        for (float[] vector : v) {
            assertEquals(384, vector.length);
            assertEquals(1.0, dot(vector, vector), 1e-4);
        }
        assertTrue(dot(v[0], v[1]) > dot(v[0], v[2]) + 0.2,
                "paraphrase " + dot(v[0], v[1]) + " vs unrelated " + dot(v[0], v[2]));
    }

    @Test
    void batchedEncodingMatchesOneAtATime() {
        long[] a = encoder.tokenize("A short one.");
        long[] b = encoder.tokenize("A much longer sentence that forces padding in the batch it shares with the short one.");
        float[][] together = encoder.encode(List.of(a, b));
        float[] alone = encoder.encode(List.of(a))[0];
        for (int d = 0; d < alone.length; d++) {
            assertEquals(alone[d], together[0][d], 1e-4);
        }
    }

    @Test
    void measuresThroughputOnABook() throws Exception {
        String text = Files.readString(SharedData.book("the-brothers-karamazov.txt")).substring(0, 60_000);
        List<long[]> sentences = new ArrayList<>();
        long tokens = 0;
        for (String sentence : text.split("(?<=[.!?])\\s+")) {
            long[] ids = encoder.tokenize(sentence);
            if (ids.length > 0 && ids.length <= 510) {
                sentences.add(ids);
                tokens += ids.length;
            }
        }
        long start = System.nanoTime();
        float[][] vectors = encoder.encode(sentences);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(sentences.size(), vectors.length);
        System.out.printf("MiniLM: %d sentences, %d tokens in %.2f s = %.0f tokens/s%n", sentences.size(), tokens,
                seconds, tokens / seconds);
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
