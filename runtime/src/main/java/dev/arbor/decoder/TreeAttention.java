package dev.arbor.decoder;

import dev.arbor.weights.LlamaConfig;
import java.nio.FloatBuffer;

/**
 * Attention of one token's query heads over what each kv head's {@link KeyTree} retrieves: exact keys
 * (sinks, window, top-k) plus coarse summaries, each summary standing for its {@code count} keys with
 * score {@code q·meanKey + ln(count)} and value {@code meanValue}.
 */
final class TreeAttention {
    private final LlamaConfig c;

    TreeAttention(LlamaConfig config) {
        this.c = config;
    }

    /**
     * Returns the attended vector {@code [dim]} for query {@code q} ({@code [heads][headSize]} flat) and adds
     * each exact position's attention weight to {@code weights}.
     */
    float[] attend(KvCache cache, float[] q, TreeAttentionSettings settings, AttentionWeights weights) {
        int hs = c.headSize();
        int stride = c.kvDim();
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] out = new float[c.dim()];
        FloatBuffer keys = cache.allKeys();
        FloatBuffer values = cache.allValues();
        for (int h = 0; h < c.heads(); h++) {
            int kvHead = h / c.groupSize();
            int qOffset = h * hs;
            KeyTree.Retrieval r = cache.tree(kvHead).search(q, qOffset, keys, settings);
            int exact = r.positionCount();
            float[] scores = new float[exact + r.summaries().size()];
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < exact; j++) {
                scores[j] = dot(q, qOffset, keys, r.positions()[j] * stride + kvHead * hs) * scale;
                max = Math.max(max, scores[j]);
            }
            for (int j = 0; j < r.summaries().size(); j++) {
                KeyTree.Node node = r.summaries().get(j);
                scores[exact + j] = dot(q, qOffset, node.centre()) * scale + (float) Math.log(node.count());
                max = Math.max(max, scores[exact + j]);
            }
            double sum = 0;
            for (int j = 0; j < scores.length; j++) {
                scores[j] = (float) Math.exp(scores[j] - max);
                sum += scores[j];
            }
            for (int j = 0; j < exact; j++) {
                float w = (float) (scores[j] / sum);
                int base = r.positions()[j] * stride + kvHead * hs;
                for (int i = 0; i < hs; i++) {
                    out[qOffset + i] += w * values.get(base + i);
                }
                scores[j] = w;
            }
            weights.addStrongest(r.positions(), scores, exact, LlamaGraphs.REPORTED_POSITIONS);
            for (int j = 0; j < r.summaries().size(); j++) {
                float w = (float) (scores[exact + j] / sum);
                float[] mean = r.summaries().get(j).valueMean();
                for (int i = 0; i < hs; i++) {
                    out[qOffset + i] += w * mean[i];
                }
            }
        }
        return out;
    }

    private float dot(float[] q, int qOffset, FloatBuffer keys, int base) {
        float s = 0;
        for (int i = 0; i < c.headSize(); i++) {
            s += q[qOffset + i] * keys.get(base + i);
        }
        return s;
    }

    private float dot(float[] q, int qOffset, float[] centre) {
        float s = 0;
        for (int i = 0; i < centre.length; i++) {
            s += q[qOffset + i] * centre[i];
        }
        return s;
    }
}
