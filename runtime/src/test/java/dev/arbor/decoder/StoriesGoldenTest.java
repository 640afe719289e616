package dev.arbor.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.testing.SharedData;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** stories260K through Arbor's ONNX graphs reproduces the golden logits and tokens of its PROVENANCE.md. */
class StoriesGoldenTest {
    static final SessionFactory SESSIONS = new SessionFactory(
            SessionSettings.builder().intraOpThreads(1).optimization(OptLevel.ALL_OPT).build());

    static Stream<Path> checkpoints() {
        return Stream.of(SharedData.stories260kGguf(), SharedData.stories260kBin());
    }

    @ParameterizedTest
    @MethodSource("checkpoints")
    void firstPositionTopFiveLogitsMatchTheGoldenValues(Path file) {
        try (LlamaModel model = LlamaModel.open(Checkpoint.load(file), SESSIONS)) {
            float[] logits = model.forward(model.newContext(), new int[] {1}, AttentionMode.EXACT)[0];
            int[] top5 = IntStream.range(0, logits.length).boxed()
                    .sorted((a, b) -> Float.compare(logits[b], logits[a])).limit(5).mapToInt(Integer::intValue).toArray();
            assertArrayEquals(Stories260k.TOP5_IDS, top5);
            for (int i = 0; i < 5; i++) {
                assertEquals(Stories260k.TOP5_LOGITS[i], logits[top5[i]], 1e-3, "logit of token " + top5[i]);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("checkpoints")
    void greedyDecodingFromBosGivesTheGolden64Tokens(Path file) {
        try (LlamaModel model = LlamaModel.open(Checkpoint.load(file), SESSIONS)) {
            DecoderContext context = model.newContext();
            int token = 1;
            int[] generated = new int[64];
            for (int i = 0; i < generated.length; i++) {
                token = Stories260k.argmax(model.forward(context, new int[] {token}, AttentionMode.EXACT)[0]);
                generated[i] = token;
            }
            assertArrayEquals(Stories260k.GREEDY_64, generated, () -> Arrays.toString(generated));
        }
    }

    @ParameterizedTest
    @MethodSource("checkpoints")
    void theEmbeddedOrBesideTokenizerEncodesTheGoldenPrompt(Path file) {
        Checkpoint checkpoint = Checkpoint.load(file);
        assertArrayEquals(Stories260k.PROMPT_IDS, checkpoint.tokenizer().encode(Stories260k.PROMPT, true));
        assertEquals(Stories260k.PROMPT, checkpoint.tokenizer().decode(Stories260k.PROMPT_IDS));
    }
}
