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
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code ai.arbor.RetrievedAttention} operator: softmax attention of each head's query over the keys
 * a tree search retrieved, with the pruned subtrees represented by their summaries (TC-Attention).
 *
 * <p>A summary node stands for {@code count} keys that each score {@code q·mean} and carry the value
 * {@code valueSum / count}; folding those identical terms into one gives the logit
 * {@code log(count) + scale·q·mean}. So with every key retrieved and no summaries the result is exactly
 * full softmax attention, and with summaries the softmax mass of what was not retrieved is still there.
 * The softmax subtracts the row maximum (ONNX Runtime's Softmax kernel does), so large logits are safe.
 *
 * <p>Inputs: queries {@code [H, d]}, keys {@code [H, R, d]}, values {@code [H, R, dv]}, a validity mask
 * {@code [H, R]} (bool; padded rows are ignored whatever they hold), summary mean keys {@code [H, S, d]},
 * summary value sums {@code [H, S, dv]}, summary counts {@code [H, S]} (a count of 0 marks padding) and a
 * float scale (usually {@code 1/sqrt(d)}). Outputs: attention output {@code [H, dv]} and the softmax
 * weights of the retrieved keys {@code [H, R]}, from which callers report the positions attended most.
 *
 * <p>{@code ai.arbor.AttentionOverIds} does the same from the store directly: it takes key and value
 * tables {@code [M, d]}, {@code [M, dv]} (a KV store segment, fed zero-copy) and the retrieved row ids
 * {@code [H, R]}, gathers inside the graph and calls RetrievedAttention. After a search descent
 * ({@link SearchStep}) this is the one run per layer that finishes attention for all heads. Safe for
 * concurrent use, as ONNX Runtime sessions are.
 */
public final class RetrievedAttention implements AutoCloseable {
    /** {@code ai.arbor.RetrievedAttention(queries, keys, values, mask, summary_means, summary_value_sums, summary_counts, scale) -> (output, key_weights)}. */
    public static final OnnxFunction FUNCTION = defineRetrieved();
    /** {@code ai.arbor.AttentionOverIds(queries, key_table, value_table, ids, mask, summary_means, summary_value_sums, summary_counts, scale) -> (output, key_weights)}. */
    public static final OnnxFunction OVER_IDS_FUNCTION = defineOverIds();

    private final GraphSession retrieved;
    private final GraphSession overIds;

    private RetrievedAttention(GraphSession retrieved, GraphSession overIds) {
        this.retrieved = retrieved;
        this.overIds = overIds;
    }

    /** Opens the sessions once; reuse the instance for every query. */
    public static RetrievedAttention open(SessionFactory sessions) throws OrtException {
        GraphSession retrieved = GraphSession.open(sessions, model());
        try {
            return new RetrievedAttention(retrieved, GraphSession.open(sessions, overIdsModel()));
        } catch (OrtException | RuntimeException e) {
            retrieved.close();
            throw e;
        }
    }

    /** The standalone graph around {@code ai.arbor.RetrievedAttention}. */
    public static OnnxModel model() {
        ModelBuilder model = ModelBuilder.named("arbor_retrieved_attention")
                .doc("Softmax attention over retrieved keys plus coarse subtree summaries");
        GraphBuilder g = model.graph();
        String queries = g.input("queries", ElementType.FLOAT, Shape.of("H", "d"));
        String keys = g.input("keys", ElementType.FLOAT, Shape.of("H", "R", "d"));
        String values = g.input("values", ElementType.FLOAT, Shape.of("H", "R", "dv"));
        List<String> inputs = new ArrayList<>(List.of(queries, keys, values));
        inputs.addAll(summaryInputs(g));
        List<String> out = g.call(FUNCTION, inputs);
        outputs(g, out);
        return model.build();
    }

    /** The standalone graph around {@code ai.arbor.AttentionOverIds}. */
    public static OnnxModel overIdsModel() {
        ModelBuilder model = ModelBuilder.named("arbor_attention_over_ids")
                .doc("Gathers retrieved keys and values from store tables by id, then RetrievedAttention");
        GraphBuilder g = model.graph();
        String queries = g.input("queries", ElementType.FLOAT, Shape.of("H", "d"));
        String keyTable = g.input("key_table", ElementType.FLOAT, Shape.of("M", "d"));
        String valueTable = g.input("value_table", ElementType.FLOAT, Shape.of("M", "dv"));
        String ids = g.input("ids", ElementType.INT64, Shape.of("H", "R"));
        List<String> inputs = new ArrayList<>(List.of(queries, keyTable, valueTable, ids));
        inputs.addAll(summaryInputs(g));
        List<String> out = g.call(OVER_IDS_FUNCTION, inputs);
        outputs(g, out);
        return model.build();
    }

    /**
     * Attention over explicitly gathered keys and values.
     *
     * @param queries {@code [H, d]}, finite
     * @param keys {@code [H, R, d]}
     * @param values {@code [H, R, dv]}
     * @param mask {@code [H, R]} bool, which retrieved rows are real
     * @param summaries coarse summaries of the pruned subtrees, or {@link Summaries#none}
     * @param scale logit scale, usually {@code 1/sqrt(d)}
     */
    public AttentionResult run(
            TensorData queries, TensorData keys, TensorData values, TensorData mask, Summaries summaries, float scale)
            throws OrtException {
        queries = Arguments.check(queries, "queries", ElementType.FLOAT, 2);
        keys = Arguments.check(keys, "keys", ElementType.FLOAT, 3);
        values = Arguments.check(values, "values", ElementType.FLOAT, 3);
        Arguments.sameSize("queries", queries, 0, "keys", keys, 0, "head count H");
        Arguments.sameSize("queries", queries, 1, "keys", keys, 2, "key dimension d");
        Arguments.sameSize("keys", keys, 0, "values", values, 0, "head count H");
        Arguments.sameSize("keys", keys, 1, "values", values, 1, "retrieved count R");
        mask = checkCommon(queries, keys.dim(1), values.dim(2), mask, summaries, scale);
        return collect(retrieved.run(queries, keys, values, mask, summaries.means(), summaries.valueSums(),
                summaries.counts(), scaleTensor(scale)), queries.dim(0), values.dim(2), keys.dim(1));
    }

    /**
     * Attention over rows of store tables picked by id (the zero-copy path: tables are read in place).
     *
     * @param keyTable {@code [M, d]} keys, e.g. a KV store segment
     * @param valueTable {@code [M, dv]} the values of the same rows
     * @param ids {@code [H, R]} int64 row ids; padded entries must still be valid rows (e.g. 0) and masked
     */
    public AttentionResult runOverIds(TensorData queries, TensorData keyTable, TensorData valueTable, TensorData ids,
            TensorData mask, Summaries summaries, float scale) throws OrtException {
        queries = Arguments.check(queries, "queries", ElementType.FLOAT, 2);
        keyTable = Arguments.check(keyTable, "key_table", ElementType.FLOAT, 2);
        valueTable = Arguments.check(valueTable, "value_table", ElementType.FLOAT, 2);
        ids = Arguments.check(ids, "ids", ElementType.INT64, 2);
        Arguments.sameSize("queries", queries, 1, "key_table", keyTable, 1, "key dimension d");
        Arguments.sameSize("key_table", keyTable, 0, "value_table", valueTable, 0, "row count M");
        Arguments.sameSize("queries", queries, 0, "ids", ids, 0, "head count H");
        Arguments.idsInRange(ids, keyTable.dim(0), "rows of 'key_table'");
        mask = checkCommon(queries, ids.dim(1), valueTable.dim(1), mask, summaries, scale);
        return collect(overIds.run(queries, keyTable, valueTable, ids, mask, summaries.means(),
                summaries.valueSums(), summaries.counts(), scaleTensor(scale)), queries.dim(0), valueTable.dim(1),
                ids.dim(1));
    }

    /** {@link #runOverIds} with the ids, mask and summaries a {@link RetrievalBatch} collected. */
    public AttentionResult runOverIds(
            TensorData queries, TensorData keyTable, TensorData valueTable, RetrievalBatch batch, float scale)
            throws OrtException {
        return runOverIds(queries, keyTable, valueTable, batch.ids(), batch.mask(), batch.summaries(), scale);
    }

    @Override
    public void close() throws OrtException {
        try {
            retrieved.close();
        } finally {
            overIds.close();
        }
    }

    private static TensorData checkCommon(
            TensorData queries, long retrievedCount, long valueDim, TensorData mask, Summaries summaries, float scale) {
        long heads = queries.dim(0);
        mask = Arguments.check(mask, "mask", ElementType.BOOL, 2);
        if (mask.dim(0) != heads || mask.dim(1) != retrievedCount) {
            throw new IllegalArgumentException("'mask' must be [H, R] = [" + heads + ", " + retrievedCount + "], got "
                    + Arrays.toString(mask.shape()));
        }
        if (summaries == null) {
            throw new IllegalArgumentException("'summaries' must be given; use Summaries.none(...) when there are none");
        }
        summaries.checkAgainst(heads, queries.dim(1), valueDim);
        if (!Float.isFinite(scale) || scale <= 0) {
            throw new IllegalArgumentException("scale must be a positive finite number, got " + scale);
        }
        Arguments.noNaN(queries);
        for (int h = 0; h < heads; h++) {
            if (!anyKey(mask, h, (int) retrievedCount) && !summaries.anyCount(h)) {
                throw new IllegalArgumentException("head " + h + " has no valid retrieved key and no summary with a"
                        + " positive count: its attention would be undefined");
            }
        }
        return mask;
    }

    private static boolean anyKey(TensorData mask, int head, int retrievedCount) {
        for (int r = 0; r < retrievedCount; r++) {
            if (Arguments.isSet(mask, head * retrievedCount + r)) {
                return true;
            }
        }
        return false;
    }

    private static TensorData scaleTensor(float scale) {
        return TensorData.floats("scale", new float[] {scale});
    }

    private static AttentionResult collect(OrtSession.Result result, long heads, long valueDim, long retrievedCount)
            throws OrtException {
        try (result) {
            float[] output = new float[Math.toIntExact(heads * valueDim)];
            ((OnnxTensor) result.get("output").orElseThrow()).getFloatBuffer().get(output);
            float[] weights = new float[Math.toIntExact(heads * retrievedCount)];
            ((OnnxTensor) result.get("key_weights").orElseThrow()).getFloatBuffer().get(weights);
            return new AttentionResult((int) heads, (int) valueDim, output, (int) retrievedCount, weights);
        }
    }

    private static List<String> summaryInputs(GraphBuilder g) {
        return List.of(
            g.input("mask", ElementType.BOOL, Shape.of("H", "R")),
            g.input("summary_means", ElementType.FLOAT, Shape.of("H", "S", "d")),
            g.input("summary_value_sums", ElementType.FLOAT, Shape.of("H", "S", "dv")),
            g.input("summary_counts", ElementType.FLOAT, Shape.of("H", "S")),
            g.input("scale", ElementType.FLOAT, Shape.of()));
    }

    private static void outputs(GraphBuilder g, List<String> out) {
        g.output("output", out.get(0), ElementType.FLOAT, Shape.of("H", "dv"));
        g.output("key_weights", out.get(1), ElementType.FLOAT, Shape.of("H", "R"));
    }

    private static OnnxFunction defineRetrieved() {
        FunctionBuilder f = FunctionBuilder.named("RetrievedAttention")
                .doc("Softmax attention over retrieved keys; a summary counts as `count` keys scoring q·mean.");
        String queries = f.input("queries");
        String keys = f.input("keys");
        String values = f.input("values");
        String mask = f.input("mask");
        String means = f.input("summary_means");
        String valueSums = f.input("summary_value_sums");
        String counts = f.input("summary_counts");
        String scale = f.input("scale");

        String queryColumns = f.op("Unsqueeze", queries, f.constant(2));
        String keyDots = f.op("Squeeze", f.op("MatMul", keys, queryColumns), f.constant(2));
        String keyLogits = f.op("Where", mask, f.op("Mul", keyDots, scale), f.scalar(Float.NEGATIVE_INFINITY));
        String meanDots = f.op("Squeeze", f.op("MatMul", means, queryColumns), f.constant(2));
        // log(0) = -inf gives padded summaries zero weight.
        String summaryLogits = f.op("Add", f.op("Mul", meanDots, scale), f.op("Log", counts));
        String logits = f.node("Concat").inputs(keyLogits, summaryLogits).attr("axis", 1L).output();
        String weights = f.node("Softmax").inputs(logits).attr("axis", -1L).output();

        // Masked rows may hold anything (stale or NaN); zero them so 0 · value stays 0.
        String keptValues = f.op("Where", f.op("Unsqueeze", mask, f.constant(2)), values, f.scalar(0f));
        String meanValues = f.op("Div", valueSums,
                f.op("Max", f.op("Unsqueeze", counts, f.constant(2)), f.scalar(1f)));
        String allValues = f.node("Concat").inputs(keptValues, meanValues).attr("axis", 1L).output();
        String output = f.op("Squeeze",
                f.op("MatMul", f.op("Unsqueeze", weights, f.constant(1)), allValues), f.constant(1));

        String retrievedCount = f.node("Shape").inputs(mask).attr("start", 1L).attr("end", 2L).output();
        String keyWeights = f.op("Slice", weights, f.constant(0), retrievedCount, f.constant(1));
        return f.output("output", output).output("key_weights", keyWeights).build();
    }

    private static OnnxFunction defineOverIds() {
        FunctionBuilder f = FunctionBuilder.named("AttentionOverIds")
                .doc("Gathers keys and values by row id from store tables, then ai.arbor.RetrievedAttention.");
        String queries = f.input("queries");
        String keyTable = f.input("key_table");
        String valueTable = f.input("value_table");
        String ids = f.input("ids");
        String mask = f.input("mask");
        String means = f.input("summary_means");
        String valueSums = f.input("summary_value_sums");
        String counts = f.input("summary_counts");
        String scale = f.input("scale");
        String keys = f.node("Gather").inputs(keyTable, ids).attr("axis", 0L).output();
        String values = f.node("Gather").inputs(valueTable, ids).attr("axis", 0L).output();
        List<String> out = f.call(FUNCTION, queries, keys, values, mask, means, valueSums, counts, scale);
        return f.output("output", out.get(0)).output("key_weights", out.get(1)).build();
    }

    /**
     * Coarse summaries of the subtrees a search pruned, {@code S} per head (pad with count 0).
     *
     * @param means {@code [H, S, d]} mean key of each summarised subtree
     * @param valueSums {@code [H, S, dv]} sum of its values
     * @param counts {@code [H, S]} how many keys it holds, as float
     */
    public record Summaries(TensorData means, TensorData valueSums, TensorData counts) {
        public Summaries {
            means = Arguments.check(means, "summary_means", ElementType.FLOAT, 3);
            valueSums = Arguments.check(valueSums, "summary_value_sums", ElementType.FLOAT, 3);
            counts = Arguments.check(counts, "summary_counts", ElementType.FLOAT, 2);
        }

        /** No summaries: attention over the retrieved keys alone. */
        public static Summaries none(int heads, int dim, int valueDim) {
            return new Summaries(
                    TensorData.floats("summary_means", new float[0], heads, 0, dim),
                    TensorData.floats("summary_value_sums", new float[0], heads, 0, valueDim),
                    TensorData.floats("summary_counts", new float[0], heads, 0));
        }

        void checkAgainst(long heads, long dim, long valueDim) {
            long s = counts.dim(1);
            boolean ok = means.dim(0) == heads && means.dim(1) == s && means.dim(2) == dim
                    && valueSums.dim(0) == heads && valueSums.dim(1) == s && valueSums.dim(2) == valueDim
                    && counts.dim(0) == heads;
            if (!ok) {
                throw new IllegalArgumentException("summaries must be means [H, S, d], value sums [H, S, dv], counts"
                        + " [H, S] with H=" + heads + ", d=" + dim + ", dv=" + valueDim + "; got " + means + ", "
                        + valueSums + ", " + counts);
            }
            FloatBuffer values = ((FloatBuffer) counts.data()).duplicate();
            while (values.hasRemaining()) {
                float count = values.get();
                if (!(count >= 0) || Float.isInfinite(count)) {
                    throw new IllegalArgumentException("summary counts must be finite and >= 0, got " + count);
                }
            }
        }

        boolean anyCount(int head) {
            FloatBuffer values = (FloatBuffer) counts.data();
            int s = (int) counts.dim(1);
            for (int i = 0; i < s; i++) {
                if (values.get(values.position() + head * s + i) > 0) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * Attention results for all heads.
     *
     * @param output {@code [heads, valueDim]} row-major attention outputs
     * @param keyWeights {@code [heads, retrieved]} softmax weight of each retrieved key
     */
    public record AttentionResult(int heads, int valueDim, float[] output, int retrieved, float[] keyWeights) {
        public float[] outputOf(int head) {
            return Arrays.copyOfRange(output, head * valueDim, (head + 1) * valueDim);
        }

        public float weight(int head, int rank) {
            return keyWeights[head * retrieved + rank];
        }
    }
}
