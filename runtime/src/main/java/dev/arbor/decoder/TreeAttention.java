package dev.arbor.decoder;

import ai.onnxruntime.OrtException;
import dev.arbor.onnx.TensorData;
import dev.arbor.ops.RetrievalBatch;
import dev.arbor.ops.RetrievedAttention;
import dev.arbor.tree.SearchParams;
import dev.arbor.tree.TreeRetrieval;
import dev.arbor.weights.LlamaConfig;
import java.util.Arrays;

/**
 * One token's query heads attending through the attention trees: the trees choose (each query head asks
 * its kv head's {@link dev.arbor.tree.AttentionTree} for sinks + window + top-k positions + summaries of
 * the pruned subtrees), and {@code ai.arbor.AttentionOverIds} attends, one ONNX Runtime run for all heads.
 * The op gathers the chosen rows from the layer's {@link KvCache} in place: viewed as a table of
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
     * Returns the attended vector {@code [dim]} for query {@code q} ({@code [heads][headSize]} flat) and adds
     * the retrieved positions' weights to {@code weights}.
     */
    float[] attend(KvCache cache, float[] q, SearchParams params, AttentionWeights weights) throws OrtException {
        int hs = c.headSize();
        int kvHeads = c.kvHeads();
        RetrievalBatch.Builder builder = RetrievalBatch.builder(c.heads(), hs, hs);
        float[] query = new float[hs];
        float scale = (float) (1.0 / Math.sqrt(hs));
        for (int h = 0; h < c.heads(); h++) {
            int kvHead = h / c.groupSize();
            System.arraycopy(q, h * hs, query, 0, hs);
            TreeRetrieval retrieval = cache.tree(kvHead).retrieve(query, scale, params);
            for (int position : retrieval.positions()) {
                builder.addKey(h, (long) position * kvHeads + kvHead);
            }
            for (TreeRetrieval.Summary summary : retrieval.summaries()) {
                builder.addSummary(h, summary.meanKey(), summary.valueSum(), summary.count());
            }
        }
        RetrievalBatch batch = builder.build();
        long rows = (long) cache.size() * kvHeads;
        RetrievedAttention.AttentionResult result = attention.runOverIds(
                TensorData.floats("queries", q, c.heads(), hs),
                TensorData.floats("key_table", cache.keys(), rows, hs),
                TensorData.floats("value_table", cache.values(), rows, hs),
                batch, scale);
        reportWeights(batch, result, weights);
        return result.output();
    }

    private void reportWeights(RetrievalBatch batch, RetrievedAttention.AttentionResult result, AttentionWeights weights) {
        int slots = batch.retrieved();
        for (int h = 0; h < batch.heads(); h++) {
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
