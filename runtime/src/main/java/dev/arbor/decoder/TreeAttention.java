package dev.arbor.decoder;

import dev.arbor.tree.AttentionResult;
import dev.arbor.tree.SearchParams;
import dev.arbor.weights.LlamaConfig;

/**
 * One token's query heads attending through the attention trees: each query head asks its kv head's
 * {@link dev.arbor.tree.AttentionTree} for sinks + window + top-k keys + coarse summaries of the rest.
 */
final class TreeAttention {
    private final LlamaConfig c;

    TreeAttention(LlamaConfig config) {
        this.c = config;
    }

    /**
     * Returns the attended vector {@code [dim]} for query {@code q} ({@code [heads][headSize]} flat) and adds
     * the retrieved positions' weights to {@code weights}.
     */
    float[] attend(KvCache cache, float[] q, SearchParams params, AttentionWeights weights) {
        int hs = c.headSize();
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] out = new float[c.dim()];
        float[] query = new float[hs];
        for (int h = 0; h < c.heads(); h++) {
            System.arraycopy(q, h * hs, query, 0, hs);
            AttentionResult result = cache.tree(h / c.groupSize()).attend(query, scale, params);
            System.arraycopy(result.output(), 0, out, h * hs, hs);
            weights.addStrongest(result.positions(), result.weights(), LlamaGraphs.REPORTED_POSITIONS);
        }
        return out;
    }
}
