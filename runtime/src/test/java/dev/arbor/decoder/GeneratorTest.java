package dev.arbor.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.testing.SharedData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeneratorTest {
    static LlamaModel model;

    @BeforeAll
    static void open() {
        model = LlamaModel.open(Checkpoint.load(SharedData.stories260kGguf()), StoriesGoldenTest.SESSIONS);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void greedyGenerationFromBosStreamsTheGoldenTokensAndTheirText() {
        List<GeneratedToken> streamed = new ArrayList<>();
        Generation g = new Generator(model).generate(model.newContext(), new int[] {1},
                GenerationSettings.builder().maxTokens(64).build(), streamed::add);
        assertArrayEquals(Stories260k.GREEDY_64, g.tokens());
        assertEquals(Generation.StopReason.MAX_TOKENS, g.stopReason());
        assertTrue(g.text().startsWith("Once upon a time, there was a little girl named Lily."), g.text());
        assertEquals(g.text(), String.join("", streamed.stream().map(GeneratedToken::text).toList()));
        assertTrue(streamed.stream().allMatch(t -> t.attended().length > 0), "every token reports attended positions");
    }

    @Test
    void theSameSeedGivesTheSameSampleAndAnotherSeedADifferentOne() {
        Generator generator = new Generator(model);
        GenerationSettings.Builder settings = GenerationSettings.builder().maxTokens(40).temperature(1f).topP(0.9f);
        int[] a = generator.generate("Once upon a time", settings.seed(7).build(), t -> true).tokens();
        int[] b = generator.generate("Once upon a time", settings.seed(7).build(), t -> true).tokens();
        int[] c = generator.generate("Once upon a time", settings.seed(8).build(), t -> true).tokens();
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c), "seeds 7 and 8 gave the same 40 tokens");
    }

    @Test
    void aStopStringEndsGenerationAfterItAppears() {
        Generation g = new Generator(model).generate("Once upon a time",
                GenerationSettings.builder().maxTokens(200).stopStrings(List.of(".")).build(), t -> true);
        assertEquals(Generation.StopReason.STOP_STRING, g.stopReason());
        assertTrue(g.text().endsWith("."), g.text());
        assertEquals(1, g.text().chars().filter(ch -> ch == '.').count(), g.text());
    }

    @Test
    void theListenerCanCancel() {
        Generation g = new Generator(model).generate("Once upon a time",
                GenerationSettings.builder().maxTokens(50).build(), t -> t.index() < 4);
        assertEquals(Generation.StopReason.CANCELLED, g.stopReason());
        assertEquals(5, g.tokens().length);
    }

    @Test
    void samplingStopsAtEndOfSequence() {
        Generation g = new Generator(model).generate("Once upon a time",
                GenerationSettings.builder().maxTokens(2000).temperature(1f).seed(3).build(), t -> true);
        assertEquals(Generation.StopReason.END_OF_SEQUENCE, g.stopReason());
        assertNotEquals(0, g.tokens().length);
    }

    @Test
    void aTinyNucleusAlwaysPicksTheMostLikelyToken() {
        float[] logits = {0.5f, 2f, 1.9f, -1f};
        for (long seed = 0; seed < 20; seed++) {
            assertEquals(1, new Sampler(1f, 0.01f, seed).next(logits));
        }
    }

    @Test
    void treeAttentionCanBeChosenPerRequestAndReportsAttendedPositions() {
        List<GeneratedToken> streamed = new ArrayList<>();
        Generation g = new Generator(model).generate(model.newContext(), new int[] {1},
                GenerationSettings.builder().mode(AttentionMode.TREE).treeParams(TreeAttentionTest.EVERYTHING)
                        .maxTokens(64).build(), streamed::add);
        assertArrayEquals(Stories260k.GREEDY_64, g.tokens());
        GeneratedToken last = streamed.get(streamed.size() - 1);
        assertTrue(Arrays.stream(last.attended()).allMatch(p -> p >= 0 && p <= 64), Arrays.toString(last.attended()));
    }

    @Test
    void badSamplingSettingsAreRejectedWithTheReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Sampler(0.5f, 0f, 1));
        assertTrue(e.getMessage().contains("top_p"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GenerationSettings.builder().maxTokens(0).build());
    }
}
