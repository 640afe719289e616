package dev.arbor.decoder;

import dev.arbor.onnx.ElementType;
import dev.arbor.onnx.GraphBuilder;
import dev.arbor.onnx.ModelBuilder;
import dev.arbor.onnx.OnnxModel;
import dev.arbor.onnx.Shape;
import dev.arbor.ops.RetrievedAttention;
import dev.arbor.weights.LayerWeights;
import dev.arbor.weights.LlamaConfig;
import dev.arbor.weights.LlamaWeights;
import java.util.List;

/**
 * The ONNX graphs of a Llama decoder, built from its weights (which become initializers). Each layer is
 * split at attention so Java can append keys and values to the context's store in between:
 *
 * <ol>
 *   <li>{@link #embedding()}: token ids → rows of the embedding;
 *   <li>{@link #attentionInput(int)}: RMSNorm → Q, K, V projections → RoPE on adjacent pairs;
 *   <li>{@link #denseAttention()}: causal attention of queries over every cached key (exact mode);
 *   <li>{@link #attentionOutput(int)}: output projection + residual → RMSNorm → SwiGLU + residual;
 *   <li>{@link #treeAttentionOutput(int)}: tree attention over retrieved rows, then the same (tree mode);
 *   <li>{@link #head()}: final RMSNorm → classifier logits.
 * </ol>
 *
 * All graphs take {@code T} tokens at once, so a prompt is prefilled in one run per graph.
 */
final class LlamaGraphs {
    static final String TOKENS = "tokens";
    static final String POSITIONS = "positions";
    static final String HIDDEN = "hidden";
    static final String RESIDUAL = "residual";
    static final String ATTENDED = "attended";
    static final String QUERY = "query";
    static final String KEY = "key";
    static final String VALUE = "value";
    static final String KEYS = "keys";
    static final String VALUES = "values";
    static final String LOGITS = "logits";
    static final String TOP_POSITIONS = "top_positions";
    static final String TOP_WEIGHTS = "top_weights";
    // Tree attention's inputs, named as ai.arbor.AttentionOverIds and RetrievalBatch name them.
    static final String KEY_TABLE = "key_table";
    static final String VALUE_TABLE = "value_table";
    static final String IDS = "ids";
    static final String MASK = "mask";
    static final String SUMMARY_MEANS = "summary_means";
    static final String SUMMARY_VALUE_SUMS = "summary_value_sums";
    static final String SUMMARY_COUNTS = "summary_counts";
    static final String SCALE = "scale";
    static final String KEY_WEIGHTS = "key_weights";
    /** How many most-attended positions each layer reports for the last query. */
    static final int REPORTED_POSITIONS = 8;

    private final LlamaWeights weights;
    private final LlamaConfig c;

    LlamaGraphs(LlamaWeights weights) {
        this.weights = weights;
        this.c = weights.config();
    }

    OnnxModel embedding() {
        ModelBuilder model = ModelBuilder.named("llama_embedding");
        GraphBuilder g = model.graph();
        String tokens = g.input(TOKENS, ElementType.INT64, Shape.of("T"));
        String table = g.initializer("token_embedding", weights.tokenEmbedding(), c.vocabSize(), c.dim());
        g.output(HIDDEN, g.node("Gather").inputs(table, tokens).attr("axis", 0L).output(), ElementType.FLOAT,
                Shape.of("T", c.dim()));
        return model.build();
    }

    OnnxModel attentionInput(int layer) {
        LayerWeights w = weights.layers().get(layer);
        ModelBuilder model = ModelBuilder.named("llama_layer" + layer + "_attention_input");
        GraphBuilder g = model.graph();
        String x = g.input(HIDDEN, ElementType.FLOAT, Shape.of("T", c.dim()));
        String positions = g.input(POSITIONS, ElementType.INT64, Shape.of("T"));
        String normed = rmsNorm(g, x, g.initializer("attention_norm", w.attentionNorm(), c.dim()));
        String q = linear(g, normed, "wq", w.wq(), c.dim(), c.dim());
        String k = linear(g, normed, "wk", w.wk(), c.kvDim(), c.dim());
        String v = linear(g, normed, "wv", w.wv(), c.kvDim(), c.dim());
        String[] cosSin = rotaryAngles(g, positions);
        g.output(QUERY, rotate(g, q, c.heads(), cosSin), ElementType.FLOAT, Shape.of("T", c.heads(), c.headSize()));
        g.output(KEY, rotate(g, k, c.kvHeads(), cosSin), ElementType.FLOAT, Shape.of("T", c.kvHeads(), c.headSize()));
        g.output(VALUE, g.op("Reshape", v, g.constant(-1, c.kvHeads(), c.headSize())), ElementType.FLOAT,
                Shape.of("T", c.kvHeads(), c.headSize()));
        return model.build();
    }

    /**
     * Exact causal attention with grouped-query sharing. Keys and values arrive position-major
     * {@code [N, kvHeads, headSize]} (the store's layout, passed without copying); query {@code t} at
     * position {@code p} sees keys {@code 0..p}.
     */
    OnnxModel denseAttention() {
        ModelBuilder model = ModelBuilder.named("llama_dense_attention");
        GraphBuilder g = model.graph();
        int kvh = c.kvHeads();
        int group = c.groupSize();
        int hs = c.headSize();
        String q = g.input(QUERY, ElementType.FLOAT, Shape.of("T", c.heads(), hs));
        String keys = g.input(KEYS, ElementType.FLOAT, Shape.of("N", kvh, hs));
        String values = g.input(VALUES, ElementType.FLOAT, Shape.of("N", kvh, hs));
        String positions = g.input(POSITIONS, ElementType.INT64, Shape.of("T"));

        // [T, H, hs] → [kvh, group, T, hs]: one batched MatMul per kv head serves every query head of its group.
        String queries = g.node("Transpose").inputs(g.op("Reshape", q, g.constant(-1, kvh, group, hs)))
                .attrInts("perm", 1, 2, 0, 3).output();
        String keysT = g.op("Unsqueeze", g.node("Transpose").inputs(keys).attrInts("perm", 1, 2, 0).output(), g.constant(1));
        String scores = g.op("Mul", g.op("MatMul", queries, keysT), g.scalar((float) (1.0 / Math.sqrt(hs))));
        String probabilities = g.node("Softmax").inputs(g.op("Add", scores, causalMask(g, keys, positions)))
                .attr("axis", -1L).output();
        String valuesT = g.op("Unsqueeze", g.node("Transpose").inputs(values).attrInts("perm", 1, 0, 2).output(), g.constant(1));
        String perToken = g.node("Transpose").inputs(g.op("MatMul", probabilities, valuesT))
                .attrInts("perm", 2, 0, 1, 3).output();
        g.output(ATTENDED, g.op("Reshape", perToken, g.constant(-1, c.dim())), ElementType.FLOAT, Shape.of("T", c.dim()));
        reportMostAttended(g, probabilities, keys);
        return model.build();
    }

    /** The positions the last query attended to most, summed over heads, for the client's stream. */
    private static void reportMostAttended(GraphBuilder g, String probabilities, String keys) {
        String summed = g.node("ReduceSum").inputs(probabilities, g.constant(0, 1)).attr("keepdims", 0L).output();
        String last = g.node("Gather").inputs(summed, g.scalarLong(-1)).attr("axis", 0L).output();
        String count = g.node("Gather").inputs(g.op("Shape", keys), g.constant(0)).attr("axis", 0L).output();
        String k = g.op("Min", count, g.constant(REPORTED_POSITIONS));
        List<String> top = g.node("TopK").inputs(last, k).attr("axis", -1L).outputs(2);
        g.output(TOP_WEIGHTS, top.get(0), ElementType.FLOAT, Shape.of("K"));
        g.output(TOP_POSITIONS, top.get(1), ElementType.INT64, Shape.of("K"));
    }

    OnnxModel attentionOutput(int layer) {
        ModelBuilder model = ModelBuilder.named("llama_layer" + layer + "_attention_output");
        GraphBuilder g = model.graph();
        String attended = g.input(ATTENDED, ElementType.FLOAT, Shape.of("T", c.dim()));
        String residual = g.input(RESIDUAL, ElementType.FLOAT, Shape.of("T", c.dim()));
        g.output(HIDDEN, outputAndFeedForward(g, layer, attended, residual), ElementType.FLOAT, Shape.of("T", c.dim()));
        return model.build();
    }

    /**
     * {@link #attentionOutput} with tree attention in front: {@code ai.arbor.AttentionOverIds} over the
     * rows and summaries a search chose for every (token, head), gathered by id from the key and value
     * tables of the rows the chunk attends ({@link AttendedRows}). One run per layer where attention as its own graph took two, and the attended vectors
     * never leave ONNX Runtime. Outputs the hidden state and each query's weights on its retrieved rows.
     */
    OnnxModel treeAttentionOutput(int layer) {
        ModelBuilder model = ModelBuilder.named("llama_layer" + layer + "_tree_attention_output");
        GraphBuilder g = model.graph();
        int hs = c.headSize();
        String query = g.input(QUERY, ElementType.FLOAT, Shape.of("T", c.heads(), hs));
        String keyTable = g.input(KEY_TABLE, ElementType.FLOAT, Shape.of("M", hs));
        String valueTable = g.input(VALUE_TABLE, ElementType.FLOAT, Shape.of("M", hs));
        String ids = g.input(IDS, ElementType.INT64, Shape.of("H", "R"));
        String mask = g.input(MASK, ElementType.BOOL, Shape.of("H", "R"));
        String means = g.input(SUMMARY_MEANS, ElementType.FLOAT, Shape.of("H", "S", hs));
        String valueSums = g.input(SUMMARY_VALUE_SUMS, ElementType.FLOAT, Shape.of("H", "S", hs));
        String counts = g.input(SUMMARY_COUNTS, ElementType.FLOAT, Shape.of("H", "S"));
        String scale = g.input(SCALE, ElementType.FLOAT, Shape.of());
        String residual = g.input(RESIDUAL, ElementType.FLOAT, Shape.of("T", c.dim()));
        String queries = g.op("Reshape", query, g.constant(-1, hs));
        List<String> attention = g.call(RetrievedAttention.OVER_IDS_FUNCTION,
                queries, keyTable, valueTable, ids, mask, means, valueSums, counts, scale);
        String attended = g.op("Reshape", attention.get(0), g.constant(-1, c.dim()));
        g.output(HIDDEN, outputAndFeedForward(g, layer, attended, residual), ElementType.FLOAT, Shape.of("T", c.dim()));
        g.output(KEY_WEIGHTS, attention.get(1), ElementType.FLOAT, Shape.of("H", "R"));
        return model.build();
    }

    /** Output projection + residual, then RMSNorm → SwiGLU + residual. */
    private String outputAndFeedForward(GraphBuilder g, int layer, String attended, String residual) {
        LayerWeights w = weights.layers().get(layer);
        String x = g.op("Add", residual, linear(g, attended, "wo", w.wo(), c.dim(), c.dim()));
        String normed = rmsNorm(g, x, g.initializer("ffn_norm", w.ffnNorm(), c.dim()));
        String gate = linear(g, normed, "gate", w.gate(), c.hiddenDim(), c.dim());
        String up = linear(g, normed, "up", w.up(), c.hiddenDim(), c.dim());
        String silu = g.op("Mul", gate, g.op("Sigmoid", gate));
        String down = linear(g, g.op("Mul", silu, up), "down", w.down(), c.dim(), c.hiddenDim());
        return g.op("Add", x, down);
    }

    OnnxModel head() {
        ModelBuilder model = ModelBuilder.named("llama_head");
        GraphBuilder g = model.graph();
        String x = g.input(HIDDEN, ElementType.FLOAT, Shape.of("T", c.dim()));
        String normed = rmsNorm(g, x, g.initializer("final_norm", weights.finalNorm(), c.dim()));
        g.output(LOGITS, linear(g, normed, "classifier", weights.classifier(), c.vocabSize(), c.dim()),
                ElementType.FLOAT, Shape.of("T", c.vocabSize()));
        return model.build();
    }

    /** {@code x / sqrt(mean(x²) + eps) * weight} over the last axis. */
    private String rmsNorm(GraphBuilder g, String x, String weight) {
        String meanSquare = g.node("ReduceMean").inputs(g.op("Mul", x, x), g.constant(-1)).attr("keepdims", 1L).output();
        String inverse = g.op("Reciprocal", g.op("Sqrt", g.op("Add", meanSquare, g.scalar(c.rmsEps()))));
        return g.op("Mul", g.op("Mul", x, inverse), weight);
    }

    /** {@code x · Wᵀ} for a row-major {@code [out][in]} matrix, stored transposed so MatMul reads it directly. */
    private static String linear(GraphBuilder g, String x, String name, float[] matrix, int out, int in) {
        return g.op("MatMul", x, g.initializer(name, transpose(matrix, out, in), in, out));
    }

    /** cos and sin of {@code position · θ^(-2i/headSize)}, shaped {@code [T, 1, headSize/2, 1]} to broadcast. */
    private String[] rotaryAngles(GraphBuilder g, String positions) {
        int half = c.headSize() / 2;
        float[] frequencies = new float[half];
        for (int i = 0; i < half; i++) {
            frequencies[i] = (float) (1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headSize()));
        }
        String pos = g.op("Reshape", g.node("Cast").inputs(positions).attr("to", 1L).output(), g.constant(-1, 1, 1, 1));
        String angles = g.op("Mul", pos, g.constant(frequencies, 1, 1, half, 1));
        return new String[] {g.op("Cos", angles), g.op("Sin", angles)};
    }

    /** Rotates each adjacent pair (x[2i], x[2i+1]) of every head by its angle; returns {@code [T, heads, hs]}. */
    private String rotate(GraphBuilder g, String x, int heads, String[] cosSin) {
        String pairs = g.op("Reshape", x, g.constant(-1, heads, c.headSize() / 2, 2));
        List<String> parts = g.node("Split").inputs(pairs, g.constant(1, 1)).attr("axis", -1L).outputs(2);
        String even = parts.get(0);
        String odd = parts.get(1);
        String cos = cosSin[0];
        String sin = cosSin[1];
        String rotatedEven = g.op("Sub", g.op("Mul", even, cos), g.op("Mul", odd, sin));
        String rotatedOdd = g.op("Add", g.op("Mul", even, sin), g.op("Mul", odd, cos));
        String joined = g.node("Concat").inputs(rotatedEven, rotatedOdd).attr("axis", -1L).output();
        return g.op("Reshape", joined, g.constant(-1, heads, c.headSize()));
    }

    /** 0 where key position ≤ query position, −∞ after it; shaped {@code [T, N]}. */
    private static String causalMask(GraphBuilder g, String keys, String queryPositions) {
        String count = g.node("Gather").inputs(g.op("Shape", keys), g.scalarLong(0)).attr("axis", 0L).output();
        String keyPositions = g.op("Range", g.scalarLong(0), count, g.scalarLong(1));
        String future = g.op("Greater", g.op("Unsqueeze", keyPositions, g.constant(0)),
                g.op("Unsqueeze", queryPositions, g.constant(1)));
        return g.op("Where", future, g.scalar(Float.NEGATIVE_INFINITY), g.scalar(0f));
    }

    static float[] transpose(float[] matrix, int rows, int cols) {
        float[] out = new float[matrix.length];
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < cols; col++) {
                out[col * rows + r] = matrix[r * cols + col];
            }
        }
        return out;
    }
}
