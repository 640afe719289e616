package dev.arbor.encoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.testing.SharedData;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MiniLmEncoderTest {
    private static MiniLmEncoder encoder;
    private static String passage;

    @BeforeAll
    static void open() throws Exception {
        encoder = MiniLmEncoder.open(new SessionFactory(SessionSettings.defaults()));
        passage = passageOfTokens(400);
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    @Test
    void tokenVectorsEqualTheModelRunDirectlyInOnnxRuntime() throws Exception {
        float[][] reference = referenceHiddenStates(passage);
        EncodedTokens arbor = encodeInOneWindow(passage);

        assertEquals(400, arbor.size());
        assertEquals(reference.length - 2, arbor.size(), "reference has [CLS] and [SEP] around the same tokens");
        double maxDiff = 0;
        for (int t = 0; t < arbor.size(); t++) {
            float[] vector = arbor.vector(t);
            for (int d = 0; d < MiniLmEncoder.DIMENSION; d++) {
                maxDiff = Math.max(maxDiff, Math.abs(vector[d] - reference[t + 1][d]));
            }
        }
        assertTrue(maxDiff <= 1e-4, "max abs difference " + maxDiff);
    }

    @Test
    void sentenceEmbeddingIsTheNormalisedMeanOfTheModelOutput() throws Exception {
        float[][] reference = referenceHiddenStates(passage);
        float[] expected = new float[MiniLmEncoder.DIMENSION];
        for (float[] row : reference) {
            for (int d = 0; d < expected.length; d++) {
                expected[d] += row[d] / reference.length;
            }
        }
        Vectors.normalised(expected);

        float[] embedding = encoder.sentenceEmbedding(passage);

        double maxDiff = 0;
        for (int d = 0; d < expected.length; d++) {
            maxDiff = Math.max(maxDiff, Math.abs(embedding[d] - expected[d]));
        }
        assertTrue(maxDiff <= 1e-4, "max abs difference " + maxDiff);
        assertEquals(1.0, Vectors.dot(embedding, embedding), 1e-5);
    }

    @Test
    void sentenceEmbeddingsPlaceParaphrasesCloserThanUnrelatedSentences() {
        float[] guitar = encoder.sentenceEmbedding("A man is playing a guitar on the stage.");
        float[] music = encoder.sentenceEmbedding("Someone performs music with a string instrument.");
        float[] market = encoder.sentenceEmbedding("The stock market fell sharply on Tuesday.");

        assertTrue(Vectors.dot(guitar, music) > Vectors.dot(guitar, market) + 0.2,
                "paraphrase " + Vectors.dot(guitar, music) + " vs unrelated " + Vectors.dot(guitar, market));
    }

    @Test
    void offsetsPointAtEachTokenInTheOriginalText() {
        EncodedTokens tokens = encodeInOneWindow(passage);
        String[] words = new HuggingFaceTokenizerHolder().tokens(passage);
        for (int t = 0; t < tokens.size(); t++) {
            String covered = passage.substring((int) tokens.starts()[t], (int) tokens.ends()[t]);
            String piece = words[t].startsWith("##") ? words[t].substring(2) : words[t];
            assertEquals(piece, stripAccents(covered.toLowerCase()), "token " + t);
        }
    }

    @Test
    void offsetsAreUtf16IndicesEvenAfterCharactersOutsideTheBasicPlane() {
        String text = "Caf\u00e9 \uD83D\uDE00 na\u00efve tea \uD83C\uDF75 end.";
        TokenizedText tokens = encoder.tokenizer().tokenize(text);

        assertEquals("end", text.substring(tokens.starts()[tokens.size() - 2], tokens.ends()[tokens.size() - 2]));
        assertEquals("tea", text.substring(tokens.starts()[3], tokens.ends()[3]));
        assertEquals("Caf\u00e9", text.substring(tokens.starts()[0], tokens.ends()[0]));
    }

    @Test
    void blankOrOversizedTextsAreRejectedWithAReason() {
        IllegalArgumentException blank = assertThrows(IllegalArgumentException.class, () -> encoder.sentenceEmbedding(" "));
        assertTrue(blank.getMessage().contains("empty"), blank.getMessage());
        String tooLong = "word ".repeat(600);
        IllegalArgumentException longText = assertThrows(IllegalArgumentException.class,
                () -> encoder.sentenceEmbedding(tooLong));
        assertTrue(longText.getMessage().contains("600 tokens"), longText.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new WindowPlan(511, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new WindowPlan(128, 100, 1));
    }

    /** A passage of a real book cut at a whitespace so it has exactly {@code count} tokens. */
    static String passageOfTokens(int count) throws Exception {
        return passageOfTokens(encoder, count);
    }

    static String passageOfTokens(MiniLmEncoder encoder, int count) {
        String book;
        try {
            book = Files.readString(SharedData.book("war-and-peace.txt"), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        String text = book.substring(200_000, 200_000 + 8 * count);
        TokenizedText tokens = encoder.tokenizer().tokenize(text);
        return text.substring(0, tokens.ends()[count - 1]);
    }

    private static EncodedTokens encodeInOneWindow(String text) {
        DocumentEncoder document = encoder.newDocument(new WindowPlan(MiniLmEncoder.MAX_TEXT_TOKENS, 0, 1));
        EncodedTokens head = document.append(text);
        EncodedTokens tail = document.finish();
        assertTrue(head.isEmpty(), "a text shorter than one window is encoded at finish()");
        return tail;
    }

    /** all-minilm-l6-v2.onnx in a plain ONNX Runtime session on DJL's default tokenization. */
    private static float[][] referenceHiddenStates(String text) throws Exception {
        long[] ids = new HuggingFaceTokenizerHolder().ids(text);
        long[][] input = {ids};
        long[][] mask = {new long[ids.length]};
        java.util.Arrays.fill(mask[0], 1);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        byte[] model;
        try (InputStream in = MiniLmEncoderTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            model = in.readAllBytes();
        }
        try (OrtSession session = env.createSession(model, new OrtSession.SessionOptions());
                OnnxTensor idTensor = OnnxTensor.createTensor(env, input);
                OnnxTensor maskTensor = OnnxTensor.createTensor(env, mask);
                OnnxTensor types = OnnxTensor.createTensor(env, new long[1][ids.length]);
                OrtSession.Result result = session.run(
                        Map.of("input_ids", idTensor, "attention_mask", maskTensor, "token_type_ids", types))) {
            return ((float[][][]) result.get("output_0").orElseThrow().getValue())[0];
        }
    }

    private static String stripAccents(String s) {
        return java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFD).replaceAll("\\p{M}", "");
    }

    /** DJL's tokenizer with the packaged tokenizer.json's own settings, apart from its 128-token cut. */
    private static final class HuggingFaceTokenizerHolder {
        private Encoding encode(String text) {
            try (InputStream json = MiniLmEncoderTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json");
                    HuggingFaceTokenizer tokenizer =
                            HuggingFaceTokenizer.newInstance(json, Map.of("truncation", "false", "padding", "false"))) {
                return tokenizer.encode(text);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        long[] ids(String text) {
            return encode(text).getIds();
        }

        /** Word pieces without [CLS] and [SEP]. */
        String[] tokens(String text) {
            String[] all = encode(text).getTokens();
            return java.util.Arrays.copyOfRange(all, 1, all.length - 1);
        }
    }
}
