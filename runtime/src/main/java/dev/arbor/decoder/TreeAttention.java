package dev.arbor.decoder;

import ai.onnxruntime.OrtException;
import dev.arbor.onnx.TensorData;
import dev.arbor.ops.RetrievalBatch;
import dev.arbor.ops.RetrievedAttention;
import dev.arbor.tree.SearchParams;
import dev.arbor.tree.GroupRetrieval;
import dev.arbor.weights.LlamaConfig;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A chunk of tokens' query heads attending through the attention trees: the trees choose from the
 * context before the chunk (each kv head's {@link dev.arbor.tree.AttentionTree} is asked once for its
 * group of query heads: sinks + window + each query's top-k positions + summaries of the rest), each query also attends finely to the
 * chunk's own positions up to itself, and {@code ai.arbor.AttentionOverIds} attends, one ONNX Runtime
 * run for every (token, head) of the chunk. A chunk of one token is a decode step; a longer chunk is a
 * prefill that runs the layer graphs once per chunk instead of once per token.
 *
 * <p>The op gathers the chosen rows from the layer's {@link KvCache} in place: viewed as a table of
 * {@code positions × kvHeads} rows of {@code headSize}, position p of kv head k is row {@code p·kvHeads + k}.
 */
final class TreeAttention {
    private final LlamaConfig c;
    private final RetrievedAttention attention;

    TreeAttention(LlamaConfig config, RetrievedAttention attention) {
        this.c = config;
        this.attention = attention;
    }

    /**
     * Appends the chunk's keys and values ({@code [T][kvDim]}) to {@code cache} and returns the attended
     * vectors {@code [T][dim]} for queries {@code q} ({@code [T][heads][headSize]} flat); adds the last
     * token's retrieved positions' weights to {@code weights}.
     */
    float[] attend(KvCache cache, float[] q, FloatBuffer keys, FloatBuffer values, SearchParams params,
            AttentionWeights weights) throws OrtException {
        int hs = c.headSize();
        int heads = c.heads();
        int kvHeads = c.kvHeads();
        int tokens = q.length / c.dim();
        int start = cache.size();
        float scale = (float) (1.0 / Math.sqrt(hs));
        // Searched before the chunk's keys go in: no query may see a later position of its own chunk.
        RetrievalBatch.Builder builder = RetrievalBatch.builder(tokens * heads, hs, hs);
        int group = c.groupSize();
        GroupRetrieval retrieval = cache.retrieval();
        for (int t = 0; t < tokens; t++) {
            for (int kvHead = 0; kvHead < kvHeads; kvHead++) {
                int firstRow = t * heads + kvHead * group;
                cache.tree(kvHead).retrieve(q, firstRow * hs, group, scale, params, retrieval);
                for (int g = 0; g < group; g++) {
                    int row = firstRow + g;
                    int[] positions = retrieval.finePositions(g);
                    for (int i = 0; i < retrieval.fineCount(g); i++) {
                        builder.addKey(row, (long) positions[i] * kvHeads + kvHead);
                    }
                    builder.addSummaries(row, retrieval.summaryKeys(g), retrieval.summaryValueSums(g),
                            retrieval.summaryCounts(g), retrieval.summaryCount(g));
                    for (int position = start; position <= start + t; position++) {
                        builder.addKey(row, (long) position * kvHeads + kvHead);
                    }
                }
            }
        }
        cache.append(keys, values);
        RetrievalBatch batch = builder.build();
        long rows = (long) cache.size() * kvHeads;
        RetrievedAttention.AttentionResult result = attention.runOverIds(
                TensorData.floats("queries", q, (long) tokens * heads, hs),
                TensorData.floats("key_table", cache.keys(), rows, hs),
                TensorData.floats("value_table", cache.values(), rows, hs),
                batch, scale);
        reportWeights(batch, result, (tokens - 1) * heads, weights);
        return result.output();
    }

    /** The weights of the batch rows from {@code firstRow} on (the last token's heads). */
    private void reportWeights(RetrievalBatch batch, RetrievedAttention.AttentionResult result, int firstRow,
            AttentionWeights weights) {
        int slots = batch.retrieved();
        for (int h = firstRow; h < batch.heads(); h++) {
            long[] positions = new long[slots];
            float[] headWeights = new float[slots];
            int count = 0;
            for (int slot = 0; slot < slots && batch.row(h, slot) >= 0; slot++) {
                positions[count] = batch.row(h, slot) / c.kvHeads();
                headWeights[count++] = result.weight(h, slot);
            }
            weights.addStrongest(Arrays.copyOf(positions, count), Arrays.copyOf(headWeights, count),
                    LlamaGraphs.REPORTED_POSITIONS);
        }
    }
}
