package dev.arbor.decoder;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.arbor.ort.SessionFactory;
import dev.arbor.tokenizer.Tokenizer;
import dev.arbor.tree.HeadWorkers;
import dev.arbor.tree.SearchParams;
import dev.arbor.tree.TreeSettings;
import dev.arbor.weights.LlamaConfig;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A Llama decoder running in ONNX Runtime: the per-layer graphs of {@link LlamaGraphs}, one session
 * each, and the Java loop between them that appends keys and values to a {@link DecoderContext}.
 */
public final class LlamaModel implements AutoCloseable {
    private final LlamaConfig config;
    private final Tokenizer tokenizer;
    private final OrtEnvironment env;
    private final OrtSession embedding;
    private final List<OrtSession> attentionInputs = new ArrayList<>();
    private final List<OrtSession> attentionOutputs = new ArrayList<>();
    private final List<OrtSession> treeAttentionOutputs = new ArrayList<>();
    private final OrtSession denseAttention;
    private final OrtSession head;
    private final TreeAttention treeAttention;
    /** Search the kv heads side by side and insert into the trees beside the layers' graphs. */
    private final HeadWorkers workers;

    private LlamaModel(Checkpoint checkpoint, SessionFactory sessions, HeadWorkers workers) throws OrtException {
        this.config = checkpoint.weights().config();
        this.tokenizer = checkpoint.tokenizer();
        this.env = sessions.environment();
        LlamaGraphs graphs = new LlamaGraphs(checkpoint.weights());
        this.embedding = sessions.open(graphs.embedding());
        for (int l = 0; l < config.layers(); l++) {
            attentionInputs.add(sessions.open(graphs.attentionInput(l)));
            attentionOutputs.add(sessions.open(graphs.attentionOutput(l)));
            treeAttentionOutputs.add(sessions.open(graphs.treeAttentionOutput(l)));
        }
        this.denseAttention = sessions.open(graphs.denseAttention());
        this.head = sessions.open(graphs.head());
        this.treeAttention = new TreeAttention(config, env, treeAttentionOutputs, workers);
        this.workers = workers;
    }

    /**
     * Builds the graphs from the checkpoint's weights and opens their sessions; tree attention searches
     * the kv heads one after another on the calling thread.
     */
    public static LlamaModel open(Checkpoint checkpoint, SessionFactory sessions) {
        return open(checkpoint, sessions, HeadWorkers.callingThread());
    }

    /**
     * Builds the graphs from the checkpoint's weights and opens their sessions; tree attention searches
     * the kv heads side by side on {@code workers}.
     */
    public static LlamaModel open(Checkpoint checkpoint, SessionFactory sessions, HeadWorkers workers) {
        if (workers == null) {
            throw new IllegalArgumentException("head workers must be set (HeadWorkers.callingThread() for none)");
        }
        try {
            return new LlamaModel(checkpoint, sessions, workers);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not open the decoder graphs: " + e.getMessage(), e);
        }
    }

    public LlamaConfig config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * How tree attention searches unless a request says otherwise: top-32, beam 8, 4 sinks, window 64.
     * Narrower than the tree's general default (top-64, beam 56): with a head size of 8 a query tells
     * few keys apart, so the mass that matters sits in few leaves, and a scanned leaf's keys outside the
     * top-k are summarised by their scores, so they need no fine terms. Measured on stories260K over
     * 4,096 tokens of its own stories, perplexity over exact (chunked tree prefill): with one beam per kv
     * head and leaves scored exactly ({@link dev.arbor.tree.GroupRetrieval}), top-32/beam 8 and
     * top-32/beam 16 both +0.01 % at 512 tokens and +0.11 % at 4,096 (the leaves past the beam are
     * chosen by their expected keys above each query's k-th score either way, and mostly the same ones).
     * Earlier, one search per query head with 4-bit leaf codes: top-32/beam 16 +0.20 % token by token
     * (+0.11 % chunked), top-32/beam 8 +0.30 %, top-16/beam 8 +0.42 %, top-16/beam 4 +3.0 %; top-64/beam
     * 64 +0.16 %. Beam 8 halves the nodes ranked and summarised per level, which is what grows with the
     * context. Since the trees hold the context's sinks and window out ({@code KvCache}) and fold the
     * pruned subtrees past a budget of 32 into one summary ({@link dev.arbor.tree.GroupRetrieval}), the
     * same search measures -0.004 % at 512 and +0.095 % at 4,096; scanning at most 2 beams of leaves
     * instead of 3, -0.004 % and +0.146 %.
     */
    public static final SearchParams DEFAULT_TREE_SEARCH = SearchParams.builder().k(32).beam(8).sinks(4).window(64).build();

    /**
     * Leaves of 64 keys, not the tree's general 128: {@link #DEFAULT_TREE_SEARCH} was measured with them,
     * and a decoder's trees hold at most a few hundred thousand keys of head size 8, where the memory the
     * larger leaves save is a few kilobytes.
     */
    public static final TreeSettings DEFAULT_TREE_SETTINGS = TreeSettings.builder().leafCapacity(64).build();

    /**
     * Tokens per tree-attention prefill run: the layer graphs and the attention op run once per chunk.
     * Within a chunk the window is the chunk's earlier positions plus the window before it, so a
     * chunk much longer than the window would attend more finely than decoding does; 64 keeps the two close.
     */
    static final int TREE_PREFILL_CHUNK = 64;

    /** A fresh context; tree attention in it uses {@link #DEFAULT_TREE_SEARCH}. */
    public DecoderContext newContext() {
        return newContext(DEFAULT_TREE_SEARCH);
    }

    /** A fresh context whose tree attention searches with {@code treeParams}. */
    public DecoderContext newContext(SearchParams treeParams) {
        return newContext(treeParams, DEFAULT_TREE_SETTINGS);
    }

    /** A fresh context whose trees are shaped by {@code treeSettings} and searched with {@code treeParams}. */
    public DecoderContext newContext(SearchParams treeParams, TreeSettings treeSettings) {
        return new DecoderContext(config, treeParams, treeSettings, 1024);
    }

    /**
     * Runs {@code tokens} at the context's next positions, appends their keys and values, and returns
     * the logits after each token ({@code [T][vocab]}). Exact attention prefills all tokens in one run
     * per graph; tree attention in chunks of {@link #TREE_PREFILL_CHUNK}, each query searching the trees
     * as they were before its chunk and attending its chunk's earlier positions finely.
     */
    public float[][] forward(DecoderContext context, int[] tokens, AttentionMode mode) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("forward needs at least one token");
        }
        for (int token : tokens) {
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of " + config.vocabSize());
            }
        }
        try {
            if (mode == AttentionMode.EXACT) {
                return run(context, tokens, mode);
            }
            float[][] logits = new float[tokens.length][];
            for (int from = 0; from < tokens.length; from += TREE_PREFILL_CHUNK) {
                int to = Math.min(tokens.length, from + TREE_PREFILL_CHUNK);
                float[][] chunk = run(context, Arrays.copyOfRange(tokens, from, to), mode);
                System.arraycopy(chunk, 0, logits, from, chunk.length);
            }
            return logits;
        } catch (OrtException e) {
            throw new IllegalStateException("decoder forward pass failed in ONNX Runtime: " + e.getMessage(), e);
        }
    }

    private float[][] run(DecoderContext context, int[] tokens, AttentionMode mode) throws OrtException {
        int count = tokens.length;
        long[] ids = new long[count];
        long[] positions = new long[count];
        for (int i = 0; i < count; i++) {
            ids[i] = tokens[i];
            positions[i] = context.length() + i;
        }
        AttentionWeights weights = new AttentionWeights();
        try (OnnxTensor idTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {count});
                OnnxTensor positionTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(positions), new long[] {count})) {
            OrtSession.Result hidden = embedding.run(Map.of(LlamaGraphs.TOKENS, idTensor));
            for (int l = 0; l < config.layers(); l++) {
                OrtSession.Result next = layer(context, l, tensor(hidden, LlamaGraphs.HIDDEN), positionTensor, mode, weights);
                hidden.close();
                hidden = next;
            }
            try (OrtSession.Result last = hidden;
                    OrtSession.Result logits = head.run(Map.of(LlamaGraphs.HIDDEN, tensor(last, LlamaGraphs.HIDDEN)))) {
                context.advance(count);
                context.lastAttended(weights.strongest(LlamaGraphs.REPORTED_POSITIONS));
                return (float[][]) tensor(logits, LlamaGraphs.LOGITS).getValue();
            }
        }
    }

    /** One transformer block: graph, then keys and values into the store, attention, graph. */
    private OrtSession.Result layer(DecoderContext context, int l, OnnxTensor hidden, OnnxTensor positions,
            AttentionMode mode, AttentionWeights weights) throws OrtException {
        try (OrtSession.Result qkv = attentionInputs.get(l).run(
                Map.of(LlamaGraphs.HIDDEN, hidden, LlamaGraphs.POSITIONS, positions))) {
            KvCache cache = context.layer(l);
            FloatBuffer keys = tensor(qkv, LlamaGraphs.KEY).getFloatBuffer();
            FloatBuffer values = tensor(qkv, LlamaGraphs.VALUE).getFloatBuffer();
            OnnxTensor query = tensor(qkv, LlamaGraphs.QUERY);
            if (mode == AttentionMode.TREE) {
                return treeAttention.attend(l, cache, query, hidden, keys, values, context.treeParams(), weights);
            }
            cache.append(keys, values, workers);
            try (OrtSession.Result attended = denseAttention(cache, query, positions, weights)) {
                return attentionOutputs.get(l).run(
                        Map.of(LlamaGraphs.ATTENDED, tensor(attended, LlamaGraphs.ATTENDED), LlamaGraphs.RESIDUAL, hidden));
            }
        }
    }

    private OrtSession.Result denseAttention(KvCache cache, OnnxTensor query, OnnxTensor positions,
            AttentionWeights weights) throws OrtException {
        long[] shape = {cache.size(), config.kvHeads(), config.headSize()};
        try (OnnxTensor keys = OnnxTensor.createTensor(env, cache.keys(), shape);
                OnnxTensor values = OnnxTensor.createTensor(env, cache.values(), shape)) {
            OrtSession.Result result = denseAttention.run(Map.of(LlamaGraphs.QUERY, query, LlamaGraphs.KEYS, keys,
                    LlamaGraphs.VALUES, values, LlamaGraphs.POSITIONS, positions));
            long[] top = (long[]) tensor(result, LlamaGraphs.TOP_POSITIONS).getValue();
            float[] topWeights = (float[]) tensor(result, LlamaGraphs.TOP_WEIGHTS).getValue();
            for (int i = 0; i < top.length; i++) {
                weights.add((int) top[i], topWeights[i]);
            }
            return result;
        }
    }

    private static OnnxTensor tensor(OrtSession.Result result, String name) {
        return (OnnxTensor) result.get(name).orElseThrow(() -> new IllegalStateException("graph output '" + name + "' missing"));
    }

    @Override
    public void close() {
        try {
            embedding.close();
            for (OrtSession s : attentionInputs) {
                s.close();
            }
            for (OrtSession s : attentionOutputs) {
                s.close();
            }
            for (OrtSession s : treeAttentionOutputs) {
                s.close();
            }
            denseAttention.close();
            head.close();
        } catch (OrtException e) {
            throw new IllegalStateException("could not close decoder sessions: " + e.getMessage(), e);
        }
    }
}
