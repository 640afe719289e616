package dev.arbor.decoder;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.arbor.ops.RetrievalBatch;
import dev.arbor.tree.GroupRetrieval;
import dev.arbor.tree.HeadWorkers;
import dev.arbor.tree.SearchParams;
import dev.arbor.weights.LlamaConfig;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A chunk of tokens' query heads attending through the attention trees: the trees choose from the
 * context before the chunk (each kv head's {@link dev.arbor.tree.AttentionTree} is asked once for its
 * group of query heads: each query's top-k positions + summaries of the rest), the sinks and window the
 * trees hold out ({@link KvCache#heldOut}) are attended finely, each
 * query also attends finely to the chunk's own positions up to itself, and the layer's
 * {@link LlamaGraphs#treeAttentionOutput} graph attends and finishes the layer in one ONNX Runtime run.
 * A chunk of one token is a decode step; a longer chunk is a prefill that runs the layer graphs once
 * per chunk instead of once per token.
 *
 * <p>The graph gathers the chosen rows by id from a small table of just the rows the chunk attends
 * ({@link AttendedRows}), built from the searches' own reads and the cache's held-out and new positions.
 *
 * <p>The kv heads' searches are independent (each head has its own tree and retrieval), so they run side
 * by side on the {@link HeadWorkers} given; what grows with the context is mostly these searches.
 */
final class TreeAttention {
    private final LlamaConfig c;
    private final OrtEnvironment env;
    private final List<OrtSession> outputs;
    private final HeadWorkers workers;

    /**
     * {@code outputs}: per layer, the session of {@link LlamaGraphs#treeAttentionOutput}; {@code workers}
     * run the kv heads' searches.
     */
    TreeAttention(LlamaConfig config, OrtEnvironment env, List<OrtSession> outputs, HeadWorkers workers) {
        this.c = config;
        this.env = env;
        this.outputs = outputs;
        this.workers = workers;
    }

    /**
     * Appends the chunk's keys and values ({@code [T][kvDim]}) to layer {@code l}'s {@code cache}, attends
     * for {@code query} ({@code [T, heads, headSize]}) and returns the layer's output hidden state
     * ({@link LlamaGraphs#HIDDEN}); adds the last token's retrieved positions' weights to {@code weights}.
     */
    OrtSession.Result attend(int l, KvCache cache, OnnxTensor query, OnnxTensor residual, FloatBuffer keys,
            FloatBuffer values, SearchParams params, AttentionWeights weights) throws OrtException {
        FloatBuffer queries = query.getFloatBuffer();
        float[] q = new float[queries.remaining()];
        queries.get(q);
        int hs = c.headSize();
        int heads = c.heads();
        int kvHeads = c.kvHeads();
        int tokens = q.length / c.dim();
        float scale = (float) (1.0 / Math.sqrt(hs));
        // Searched before the chunk's keys go in: no query may see a later position of its own chunk.
        AttendedRows table = cache.attendedRows();
        RetrievalBatch batch = retrieve(cache, table, q, keys, values, tokens, scale, params);
        cache.append(keys, values, workers);
        long[] tableShape = {table.size(), hs};
        List<OnnxTensor> inputs = new ArrayList<>();
        try {
            Map<String, OnnxTensor> feed = new HashMap<>();
            feed.put(LlamaGraphs.QUERY, query);
            feed.put(LlamaGraphs.RESIDUAL, residual);
            feed.put(LlamaGraphs.KEY_TABLE, track(inputs, OnnxTensor.createTensor(env, table.keyTable(), tableShape)));
            feed.put(LlamaGraphs.VALUE_TABLE, track(inputs, OnnxTensor.createTensor(env, table.valueTable(), tableShape)));
            feed.put(LlamaGraphs.IDS, track(inputs, batch.ids().toOrt(env)));
            feed.put(LlamaGraphs.MASK, track(inputs, batch.mask().toOrt(env)));
            feed.put(LlamaGraphs.SUMMARY_MEANS, track(inputs, batch.summaries().means().toOrt(env)));
            feed.put(LlamaGraphs.SUMMARY_VALUE_SUMS, track(inputs, batch.summaries().valueSums().toOrt(env)));
            feed.put(LlamaGraphs.SUMMARY_COUNTS, track(inputs, batch.summaries().counts().toOrt(env)));
            feed.put(LlamaGraphs.SCALE, track(inputs, OnnxTensor.createTensor(env, cache.scale(scale), new long[0])));
            OrtSession.Result result = outputs.get(l).run(feed);
            FloatBuffer keyWeights = ((OnnxTensor) result.get(LlamaGraphs.KEY_WEIGHTS).orElseThrow(
                    () -> new IllegalStateException("graph output '" + LlamaGraphs.KEY_WEIGHTS + "' missing"))).getFloatBuffer();
            reportWeights(batch, table, keyWeights, (tokens - 1) * heads, weights);
            return result;
        } finally {
            inputs.forEach(OnnxTensor::close);
        }
    }

    /**
     * Every (token, head)'s fine rows and summaries: one group retrieval per kv head and token. The rows go
     * into {@code table} first: the held-out positions and the chunk's own ({@code newKeys},
     * {@code newValues}, not yet in the cache) as blocks, each query's fine keys as the search read them.
     */
    private RetrievalBatch retrieve(KvCache cache, AttendedRows table, float[] q, FloatBuffer newKeys,
            FloatBuffer newValues, int tokens, float scale, SearchParams params) {
        int hs = c.headSize();
        int heads = c.heads();
        int kvHeads = c.kvHeads();
        int group = c.groupSize();
        int start = cache.size();
        int[] heldOut = cache.heldOut();
        int[] heldRows = new int[heldOut.length / 2];
        int[] heldCounts = new int[heldOut.length / 2];
        for (int range = 0; range < heldOut.length; range += 2) {
            // A range may end before it starts: it is empty then.
            heldCounts[range / 2] = Math.max(0, heldOut[range + 1] - heldOut[range]);
            heldRows[range / 2] = table.addPositions(cache.keys(), cache.values(), heldOut[range] * c.kvDim(),
                    heldCounts[range / 2], kvHeads, heldOut[range]);
        }
        int chunkRows = table.addPositions(newKeys, newValues, newKeys.position(), tokens, kvHeads, start);
        SearchParams treeParams = cache.treeParams(params);
        cache.awaitInserts();
        RetrievalBatch.Builder builder = cache.batch(tokens * heads);
        for (int t = 0; t < tokens; t++) {
            int token = t;
            workers.forEachHead(kvHeads, kvHead -> cache.tree(kvHead).retrieve(
                    q, (token * heads + kvHead * group) * hs, group, scale, treeParams, cache.retrieval(kvHead)));
            for (int kvHead = 0; kvHead < kvHeads; kvHead++) {
                GroupRetrieval retrieval = cache.retrieval(kvHead);
                int firstRow = t * heads + kvHead * group;
                for (int g = 0; g < group; g++) {
                    int row = firstRow + g;
                    int[] positions = retrieval.finePositions(g);
                    float[] fineKeys = retrieval.fineKeys(g);
                    float[] fineValues = retrieval.fineValues(g);
                    for (int i = 0; i < retrieval.fineCount(g); i++) {
                        builder.addKey(row, table.add(cache.cachePosition(positions[i]), fineKeys, i * hs, fineValues, i * hs));
                    }
                    for (int range = 0; range < heldRows.length; range++) {
                        for (int p = 0; p < heldCounts[range]; p++) {
                            builder.addKey(row, heldRows[range] + (long) p * kvHeads + kvHead);
                        }
                    }
                    if (tokens == 1) {
                        // Each kv head has its own retrieval, untouched until the batch is built.
                        builder.addSummariesByReference(row, retrieval.summaryKeys(g), retrieval.summaryValueSums(g),
                                retrieval.summaryCounts(g), retrieval.summaryCount(g));
                    } else {
                        builder.addSummaries(row, retrieval.summaryKeys(g), retrieval.summaryValueSums(g),
                                retrieval.summaryCounts(g), retrieval.summaryCount(g));
                    }
                    for (int p = 0; p <= t; p++) {
                        builder.addKey(row, chunkRows + (long) p * kvHeads + kvHead);
                    }
                }
            }
        }
        return builder.build(cache.workspace());
    }

    private static OnnxTensor track(List<OnnxTensor> inputs, OnnxTensor tensor) {
        inputs.add(tensor);
        return tensor;
    }

    /** The weights of the batch rows from {@code firstRow} on (the last token's heads). */
    private static void reportWeights(RetrievalBatch batch, AttendedRows table, FloatBuffer keyWeights, int firstRow,
            AttentionWeights weights) {
        int slots = batch.retrieved();
        long[] positions = new long[slots];
        float[] headWeights = new float[slots];
        for (int h = firstRow; h < batch.heads(); h++) {
            int count = 0;
            for (int slot = 0; slot < slots && batch.row(h, slot) >= 0; slot++) {
                positions[count] = table.position(batch.row(h, slot));
                headWeights[count++] = keyWeights.get(h * slots + slot);
            }
            weights.addStrongest(Arrays.copyOf(positions, count), Arrays.copyOf(headWeights, count),
                    LlamaGraphs.REPORTED_POSITIONS);
        }
    }
}
