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

/**
 * The {@code ai.arbor.DenseAttention} operator: exact softmax attention of each head's query over all
 * {@code N} of its keys (MatMul, Softmax, MatMul) — the linear-time baseline that tree attention is
 * measured against, and the "exact" side of the exact/tree switch.
 *
 * <p>Inputs: queries {@code [H, d]}, keys {@code [H, N, d]}, values {@code [H, N, dv]}, a float scale.
 * Output: {@code [H, dv]}. Keys and values in direct buffers (the KV store) are read in place. For the
 * benchmark's {@code exact_ms}, open it with a {@link SessionFactory} of 2 intra-op threads.
 */
public final class DenseAttention implements AutoCloseable {
    /** {@code ai.arbor.DenseAttention(queries, keys, values, scale) -> output}. */
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
        String output = g.call(FUNCTION, queries, keys, values, scale).get(0);
        g.output("output", output, ElementType.FLOAT, Shape.of("H", "dv"));
        return model.build();
    }

    /** Exact attention; returns {@code [H, dv]} row-major. */
    public float[] run(TensorData queries, TensorData keys, TensorData values, float scale) throws OrtException {
        queries = Arguments.check(queries, "queries", ElementType.FLOAT, 2);
        keys = Arguments.check(keys, "keys", ElementType.FLOAT, 3);
        values = Arguments.check(values, "values", ElementType.FLOAT, 3);
        Arguments.sameSize("queries", queries, 0, "keys", keys, 0, "head count H");
        Arguments.sameSize("queries", queries, 1, "keys", keys, 2, "key dimension d");
        Arguments.sameSize("keys", keys, 0, "values", values, 0, "head count H");
        Arguments.sameSize("keys", keys, 1, "values", values, 1, "key count N");
        if (keys.dim(1) == 0) {
            throw new IllegalArgumentException("dense attention needs at least one key per head, got N = 0");
        }
        if (!Float.isFinite(scale) || scale <= 0) {
            throw new IllegalArgumentException("scale must be a positive finite number, got " + scale);
        }
        Arguments.noNaN(queries);
        try (OrtSession.Result result =
                session.run(queries, keys, values, TensorData.floats("scale", new float[] {scale}))) {
            float[] output = new float[Math.toIntExact(queries.dim(0) * values.dim(2))];
            ((OnnxTensor) result.get(0)).getFloatBuffer().get(output);
            return output;
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }

    private static OnnxFunction define() {
        FunctionBuilder f = FunctionBuilder.named("DenseAttention").doc("softmax(scale · K q) · V per head");
        String queries = f.input("queries");
        String keys = f.input("keys");
        String values = f.input("values");
        String scale = f.input("scale");
        // K [H,N,d] · q [H,d,1] keeps the keys untransposed: no copy of the N×d block per call.
        String logits = f.op("Mul", f.op("MatMul", keys, f.op("Unsqueeze", queries, f.constant(2))), scale);
        String weights = f.node("Softmax").inputs(logits).attr("axis", 1L).output();
        String weightRows = f.op("Unsqueeze", f.op("Squeeze", weights, f.constant(2)), f.constant(1));
        String output = f.op("Squeeze", f.op("MatMul", weightRows, values), f.constant(1));
        return f.output("output", output).build();
    }
}
