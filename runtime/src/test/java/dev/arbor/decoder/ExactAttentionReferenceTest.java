package dev.arbor.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.arbor.testing.SharedData;
import org.junit.jupiter.api.Test;

/** Exact attention through the ONNX graphs equals a plain-Java dense forward pass. */
class ExactAttentionReferenceTest {

    @Test
    void batchPrefillLogitsEqualTheReferenceWithinOneThousandth() {
        Checkpoint checkpoint = Checkpoint.load(SharedData.stories260kBin());
        int[] prompt = checkpoint.tokenizer().encode(Stories260k.PROMPT, true);
        ReferenceLlama reference = new ReferenceLlama(checkpoint.weights(), 64);
        try (LlamaModel model = LlamaModel.open(checkpoint, StoriesGoldenTest.SESSIONS)) {
            float[][] logits = model.forward(model.newContext(), prompt, AttentionMode.EXACT);
            double worst = 0;
            for (int t = 0; t < prompt.length; t++) {
                float[] expected = reference.forward(prompt[t]);
                for (int i = 0; i < expected.length; i++) {
                    worst = Math.max(worst, Math.abs(expected[i] - logits[t][i]));
                }
            }
            assertEquals(0, worst, 1e-3, "largest logit difference over " + prompt.length + " positions");
        }
    }

    @Test
    void thirtyTwoGreedyTokensAfterAPromptEqualTheReference() {
        Checkpoint checkpoint = Checkpoint.load(SharedData.stories260kGguf());
        int[] prompt = checkpoint.tokenizer().encode(Stories260k.PROMPT, true);
        ReferenceLlama reference = new ReferenceLlama(checkpoint.weights(), prompt.length + 32);
        int[] expected = new int[32];
        float[] logits = null;
        for (int token : prompt) {
            logits = reference.forward(token);
        }
        for (int i = 0; i < 32; i++) {
            expected[i] = Stories260k.argmax(logits);
            logits = reference.forward(expected[i]);
        }
        try (LlamaModel model = LlamaModel.open(checkpoint, StoriesGoldenTest.SESSIONS)) {
            DecoderContext context = model.newContext();
            float[][] prefill = model.forward(context, prompt, AttentionMode.EXACT);
            int[] actual = new int[32];
            actual[0] = Stories260k.argmax(prefill[prompt.length - 1]);
            for (int i = 1; i < 32; i++) {
                actual[i] = Stories260k.argmax(model.forward(context, new int[] {actual[i - 1]}, AttentionMode.EXACT)[0]);
            }
            assertArrayEquals(expected, actual);
        }
    }
}
