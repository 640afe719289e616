package dev.arbor.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.arbor.tokenizer.SentencePieceBpe;
import dev.arbor.testing.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Hugging Face folder written from stories260K's weights runs exactly like the GGUF it came from. */
class HuggingFaceCheckpointTest {

    @Test
    void aSafetensorsCheckpointWrittenFromTheSameWeightsGivesTheSameTokens(@TempDir Path folder) throws Exception {
        Checkpoint gguf = Checkpoint.load(SharedData.stories260kGguf());
        HuggingFaceFolder.write(folder, gguf.weights(), (SentencePieceBpe) gguf.tokenizer());
        Checkpoint hf = Checkpoint.load(folder);
        assertArrayEquals(Stories260k.PROMPT_IDS, hf.tokenizer().encode(Stories260k.PROMPT, true));
        try (LlamaModel model = LlamaModel.open(hf, StoriesGoldenTest.SESSIONS)) {
            Generation g = new Generator(model).generate(model.newContext(), new int[] {1},
                    GenerationSettings.builder().maxTokens(64).build(), t -> true);
            assertArrayEquals(Stories260k.GREEDY_64, g.tokens());
            assertEquals(gguf.tokenizer().decode(g.tokens()), g.text());
        }
    }
}
