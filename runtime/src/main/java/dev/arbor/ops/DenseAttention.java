package dev.arbor.ops;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.arbor.onnx.ElementType;
import dev.arbor.onnx.FunctionBuilder;
import dev.arbor.onnx.GraphBuilder;
import dev.arbor.onnx.GraphSession;
import dev.arbor.onnx.ModelBuilder;
import dev.arbor.onnx.OnnxFunction;
import dev.arbor.onnx.OnnxModel;
import dev.arbor.onnx.Shape;
import dev.arbor.onnx.TensorData;
import dev.arbor.ort.SessionFactory;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code ai.arbor.DenseAttention} operator: exact softmax attention of each head's query over all
 * {@code N} of its keys (MatMul, Exp, MatMul) — the linear-time baseline that tree attention is measured
 * against, and the "exact" side of the exact/tree switch.
 *
 * <p>Inputs: queries {@code [H, d]}, keys {@code [Hk, N, d]}, values {@code [Hk, N, dv]} with {@code Hk}
 * either {@code H} or 1 (one kv head shared by a group of query heads: MatMul broadcasts it), and a float
 * scale. Outputs: attention {@code [H, dv]} and each head's log-normaliser {@code log Σ exp(scale·q·k)}
 * {@code [H]}. The logits have their row maximum subtracted before {@code Exp}, so large scores are safe.
 *
 * <p>One ONNX Runtime tensor is limited to 2 GiB, so a long context (12 heads × 1M keys × 64 floats is
 * 3 GiB) is attended segment by segment: {@link #runSegments} runs each store segment in place and merges
 * the partial results exactly through their log-normalisers (the flash-attention rescaling), in Java,
 * costing {@code O(segments · H · dv)}. For the benchmark's {@code exact_ms}, open it with a
 * {@link SessionFactory} of 2 intra-op threads.
 */
public final class DenseAttention implements AutoCloseable {
    /** {@code ai.arbor.DenseAttention(queries, keys, values, scale) -> (output, log_normalizer)}. */
    public static final OnnxFunction FUNCTION = define();

    private final GraphSession session;

    private DenseAttention(GraphSession session) {
        this.session = session;
    }

    public static DenseAttention open(SessionFactory sessions) throws OrtException {
        return new DenseAttention(GraphSession.open(sessions, model()));
    }

    /** The standalone graph around the operator. */
    public static OnnxModel model() {
        ModelBuilder model = ModelBuilder.named("arbor_dense_attention").doc("Exact softmax attention over all keys");
        GraphBuilder g = model.graph();
        String queries = g.input("queries", ElementType.FLOAT, Shape.of("H", "d"));
        String keys = g.input("keys", ElementType.FLOAT, Shape.of("H", "N", "d"));
        String values = g.input("values", ElementType.FLOAT, Shape.of("H", "N", "dv"));
        String scale = g.input("scale", ElementType.FLOAT, Shape.of());
        List<String> out = g.call(FUNCTION, queries, keys, values, scale);
        g.output("output", out.get(0), ElementType.FLOAT, Shape.of("H", "dv"));
        g.output("log_normalizer", out.get(1), ElementType.FLOAT, Shape.of("H"));
        return model.build();
    }

    /** Exact attention over one block of keys; returns {@code [H, dv]} row-major. */
    public float[] run(TensorData queries, TensorData keys, TensorData values, float scale) throws OrtException {
        return runSegments(queries, List.of(keys), List.of(values), scale);
    }

    /**
     * Exact attention over keys split into segments along {@code N} (e.g. the segments of a KV store),
     * each {@code [Hk, Ni, d]} with values {@code [Hk, Ni, dv]}; equals attention over their concatenation.
     */
    public float[] runSegments(TensorData queries, List<TensorData> keySegments, List<TensorData> valueSegments,
            float scale) throws OrtException {
        queries = Arguments.check(queries, "queries", ElementType.FLOAT, 2);
        if (keySegments.isEmpty() || keySegments.size() != valueSegments.size()) {
            throw new IllegalArgumentException("dense attention needs one value segment per key segment and at least"
                    + " one segment; got " + keySegments.size() + " key and " + valueSegments.size() + " value segments");
        }
        if (!Float.isFinite(scale) || scale <= 0) {
            throw new IllegalArgumentException("scale must be a positive finite number, got " + scale);
        }
        Arguments.noNaN(queries);
        int heads = (int) queries.dim(0);
        float[] merged = null;
        float[] logNormalizers = new float[heads];
        for (int i = 0; i < keySegments.size(); i++) {
            TensorData keys = Arguments.check(keySegments.get(i), "keys", ElementType.FLOAT, 3);
            TensorData values = Arguments.check(valueSegments.get(i), "values", ElementType.FLOAT, 3);
            checkSegment(queries, keys, values);
            int valueDim = (int) values.dim(2);
            try (OrtSession.Result result =
                    session.run(queries, keys, values, TensorData.floats("scale", new float[] {scale}))) {
                float[] output = new float[heads * valueDim];
                ((OnnxTensor) result.get("output").orElseThrow()).getFloatBuffer().get(output);
                float[] segmentNormalizers = new float[heads];
                ((OnnxTensor) result.get("log_normalizer").orElseThrow()).getFloatBuffer().get(segmentNormalizers);
                if (merged == null) {
                    merged = output;
                    logNormalizers = segmentNormalizers;
                } else {
                    merge(merged, logNormalizers, output, segmentNormalizers, valueDim);
                }
            }
        }
        return merged;
    }

    /** Folds segment b into running result a: each is a softmax average weighted by its total exp mass. */
    private static void merge(float[] a, float[] logA, float[] b, float[] logB, int valueDim) {
        for (int h = 0; h < logA.length; h++) {
            double top = Math.max(logA[h], logB[h]);
            double massA = Math.exp(logA[h] - top);
            double massB = Math.exp(logB[h] - top);
            double total = massA + massB;
            for (int e = 0; e < valueDim; e++) {
                int i = h * valueDim + e;
                a[i] = (float) ((massA * a[i] + massB * b[i]) / total);
            }
            logA[h] = (float) (top + Math.log(total));
        }
    }

    private static void checkSegment(TensorData queries, TensorData keys, TensorData values) {
        if (keys.dim(0) != queries.dim(0) && keys.dim(0) != 1) {
            throw new IllegalArgumentException("'keys' must have H = " + queries.dim(0) + " heads or 1 shared head,"
                    + " got " + Arrays.toString(keys.shape()));
        }
        Arguments.sameSize("queries", queries, 1, "keys", keys, 2, "key dimension d");
        Arguments.sameSize("keys", keys, 0, "values", values, 0, "head count");
        Arguments.sameSize("keys", keys, 1, "values", values, 1, "key count N");
        if (keys.dim(1) == 0) {
            throw new IllegalArgumentException("dense attention needs at least one key per segment, got N = 0");
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }

    private static OnnxFunction define() {
        FunctionBuilder f = FunctionBuilder.named("DenseAttention")
                .doc("softmax(scale · K q) · V per head, and log Σ exp(scale · K q)");
        String queries = f.input("queries");
        String keys = f.input("keys");
        String values = f.input("values");
        String scale = f.input("scale");
        // K [Hk,N,d] · q [H,d,1] keeps the keys untransposed: no copy of the N×d block per call.
        String logits = f.op("Mul", f.op("MatMul", keys, f.op("Unsqueeze", queries, f.constant(2))), scale);
        String top = f.node("ReduceMax").inputs(logits, f.constant(1)).attr("keepdims", 1L).output();
        String weights = f.op("Exp", f.op("Sub", logits, top));
        String mass = f.node("ReduceSum").inputs(weights, f.constant(1)).attr("keepdims", 1L).output();
        // Normalise the dv-wide result rather than the N weights: one division per output element.
        String weightRows = f.op("Unsqueeze", f.op("Squeeze", weights, f.constant(2)), f.constant(1));
        String unnormalised = f.op("MatMul", weightRows, values);
        String output = f.op("Squeeze", f.op("Div", unnormalised, mass), f.constant(1));
        String logNormalizer = f.op("Squeeze", f.op("Add", top, f.op("Log", mass)), f.constant(1, 2));
        return f.output("output", output).output("log_normalizer", logNormalizer).build();
    }
}
