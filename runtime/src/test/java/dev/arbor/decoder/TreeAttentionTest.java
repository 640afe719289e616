package dev.arbor.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.testing.SharedData;
import dev.arbor.tree.HeadWorkers;
import dev.arbor.tree.SearchMode;
import dev.arbor.tree.SearchParams;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** Tree attention against exact attention in the same process. */
class TreeAttentionTest {
    /** k beyond every context these tests build, searched exactly: nothing is pruned. */
    static final SearchParams EVERYTHING = SearchParams.builder().k(1024).mode(SearchMode.EXACT).build();

    @Test
    void retrievingEveryKeyGivesTheSameGreedyTokensAsExactAttention() {
        Checkpoint checkpoint = Checkpoint.load(SharedData.stories260kGguf());
        try (LlamaModel model = LlamaModel.open(checkpoint, StoriesGoldenTest.SESSIONS)) {
            // 160 tokens: beyond the window and over several leaves, so the tree really is searched.
            int[] exact = greedy(model, model.newContext(), AttentionMode.EXACT, 160);
            int[] tree = greedy(model, model.newContext(EVERYTHING), AttentionMode.TREE, 160);
            assertArrayEquals(exact, tree);
        }
    }

    @Test
    void retrievingEveryKeyGivesLogitsEqualToExactAttention() {
        Checkpoint checkpoint = Checkpoint.load(SharedData.stories260kBin());
        try (LlamaModel model = LlamaModel.open(checkpoint, StoriesGoldenTest.SESSIONS)) {
            int[] tokens = greedy(model, model.newContext(), AttentionMode.EXACT, 120);
            float[][] exact = model.forward(model.newContext(), tokens, AttentionMode.EXACT);
            float[][] tree = model.forward(model.newContext(EVERYTHING), tokens, AttentionMode.TREE);
            assertEquals(0, worstDifference(exact, tree), 1e-3);
        }
    }

    @Test
    void retrievingEveryKeyReportsTheMostAttendedPositionExactAttentionReports() {
        // Tree attention's weights come back per row of the table the step attended; each must be
        // traced to its own position in the context.
        Checkpoint checkpoint = Checkpoint.load(SharedData.stories260kGguf());
        try (LlamaModel model = LlamaModel.open(checkpoint, StoriesGoldenTest.SESSIONS)) {
            int[] tokens = greedy(model, model.newContext(), AttentionMode.EXACT, 161);
            int[] prompt = Arrays.copyOf(tokens, 160);
            DecoderContext exact = model.newContext();
            model.forward(exact, prompt, AttentionMode.EXACT);
            model.forward(exact, new int[] {tokens[160]}, AttentionMode.EXACT);
            DecoderContext tree = model.newContext(EVERYTHING);
            model.forward(tree, prompt, AttentionMode.TREE);
            model.forward(tree, new int[] {tokens[160]}, AttentionMode.TREE);
            assertTrue(tree.lastAttended().length > 0, "a decode step reports what it attended");
            assertEquals(exact.lastAttended()[0], tree.lastAttended()[0]);
        }
    }

    @Test
    void aSmallWindowWithTopKStillFollowsExactAttentionClosely() {
        Checkpoint checkpoint = Checkpoint.load(SharedData.stories260kGguf());
        try (LlamaModel model = LlamaModel.open(checkpoint, StoriesGoldenTest.SESSIONS)) {
            int[] tokens = greedy(model, model.newContext(), AttentionMode.EXACT, 240);
            float[][] exact = model.forward(model.newContext(), tokens, AttentionMode.EXACT);
            SearchParams narrow = SearchParams.builder().sinks(4).window(32).k(32).beam(8).build();
            float[][] tree = model.forward(model.newContext(narrow), tokens, AttentionMode.TREE);
            int agree = 0;
            for (int t = 0; t < tokens.length; t++) {
                agree += Stories260k.argmax(exact[t]) == Stories260k.argmax(tree[t]) ? 1 : 0;
            }
            assertTrue(agree >= 0.9 * tokens.length, agree + " of " + tokens.length + " next-token choices agree");
        }
    }

    @Test
    void aChunkedTreePrefillPredictsWhatDecodingTokenByTokenPredicts() {
        Checkpoint checkpoint = Checkpoint.load(SharedData.stories260kGguf());
        try (LlamaModel model = LlamaModel.open(checkpoint, StoriesGoldenTest.SESSIONS)) {
            int[] tokens = greedy(model, model.newContext(), AttentionMode.EXACT, 200);
            float[][] chunked = model.forward(model.newContext(), tokens, AttentionMode.TREE);
            DecoderContext stepwise = model.newContext();
            int agree = 0;
            for (int t = 0; t < tokens.length; t++) {
                float[] logits = model.forward(stepwise, new int[] {tokens[t]}, AttentionMode.TREE)[0];
                agree += Stories260k.argmax(logits) == Stories260k.argmax(chunked[t]) ? 1 : 0;
            }
            assertTrue(agree >= 0.95 * tokens.length, agree + " of " + tokens.length + " next-token choices agree");
        }
    }

    @Test
    void searchingTheKvHeadsSideBySideGivesTheLogitsOfSearchingThemInTurn() {
        Checkpoint checkpoint = Checkpoint.load(SharedData.stories260kGguf());
        ExecutorService executor = Executors.newFixedThreadPool(2);
        // Three workers for four kv heads on two pool threads: a worker takes a second head while another runs.
        try (LlamaModel inTurn = LlamaModel.open(checkpoint, StoriesGoldenTest.SESSIONS);
                LlamaModel sideBySide = LlamaModel.open(checkpoint, StoriesGoldenTest.SESSIONS, HeadWorkers.on(executor, 3))) {
            // Past the window and over many leaves, with the default search: the trees prune.
            int[] tokens = greedy(inTurn, inTurn.newContext(), AttentionMode.EXACT, 400);
            int[] prompt = Arrays.copyOf(tokens, 360);
            DecoderContext one = inTurn.newContext();
            DecoderContext three = sideBySide.newContext();
            // Up to rounding: the JIT may compile the SIMD code between the two models' calls.
            assertEquals(0, worstDifference(inTurn.forward(one, prompt, AttentionMode.TREE),
                    sideBySide.forward(three, prompt, AttentionMode.TREE)), 1e-4, "chunked prefill");
            for (int t = prompt.length; t < tokens.length; t++) {
                int[] step = {tokens[t]};
                assertEquals(0, worstDifference(inTurn.forward(one, step, AttentionMode.TREE),
                        sideBySide.forward(three, step, AttentionMode.TREE)), 1e-4, "decode step at " + t);
            }
        } finally {
            executor.shutdownNow();
        }
    }

    private static double worstDifference(float[][] expected, float[][] actual) {
        double worst = 0;
        for (int t = 0; t < expected.length; t++) {
            for (int i = 0; i < expected[t].length; i++) {
                worst = Math.max(worst, Math.abs(expected[t][i] - actual[t][i]));
            }
        }
        return worst;
    }

    static int[] greedy(LlamaModel model, DecoderContext context, AttentionMode mode, int count) {
        int[] out = new int[count];
        int token = 1;
        for (int i = 0; i < count; i++) {
            out[i] = token;
            token = Stories260k.argmax(model.forward(context, new int[] {token}, mode)[0]);
        }
        return out;
    }
}
