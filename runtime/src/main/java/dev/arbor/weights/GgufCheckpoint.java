package dev.arbor.weights;

import java.util.ArrayList;
import java.util.List;

/**
 * Llama weights from a GGUF file written by llama.cpp's converters ({@code general.architecture=llama}).
 * Those converters store Q and K rows in the interleaved order, so no permutation is needed.
 */
public final class GgufCheckpoint {
    private GgufCheckpoint() {}

    public static LlamaWeights load(GgufFile gguf) {
        Object architecture = gguf.require("general.architecture");
        if (!"llama".equals(architecture)) {
            throw new ModelFileException(gguf.path(), "architecture '" + architecture + "' is not supported (only llama)");
        }
        LlamaConfig c = config(gguf);
        long dim = c.dim();
        float[] embedding = gguf.tensor("token_embd.weight", dim, c.vocabSize());
        float[] classifier = gguf.tensors().containsKey("output.weight")
                ? gguf.tensor("output.weight", dim, c.vocabSize())
                : embedding;
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            layers.add(new LayerWeights(
                    gguf.tensor(p + "attn_norm.weight", dim),
                    gguf.tensor(p + "attn_q.weight", dim, dim),
                    gguf.tensor(p + "attn_k.weight", dim, c.kvDim()),
                    gguf.tensor(p + "attn_v.weight", dim, c.kvDim()),
                    gguf.tensor(p + "attn_output.weight", dim, dim),
                    gguf.tensor(p + "ffn_norm.weight", dim),
                    gguf.tensor(p + "ffn_gate.weight", dim, c.hiddenDim()),
                    gguf.tensor(p + "ffn_down.weight", c.hiddenDim(), dim),
                    gguf.tensor(p + "ffn_up.weight", dim, c.hiddenDim())));
        }
        float[] finalNorm = gguf.tensor("output_norm.weight", dim);
        return new LlamaWeights(c, embedding, layers, finalNorm, classifier).validated(gguf.path());
    }

    private static LlamaConfig config(GgufFile gguf) {
        int dim = gguf.requireInt("llama.embedding_length");
        int heads = gguf.requireInt("llama.attention.head_count");
        int kvHeads = gguf.metadata().containsKey("llama.attention.head_count_kv")
                ? gguf.requireInt("llama.attention.head_count_kv") : heads;
        int vocab = gguf.tensors().containsKey("token_embd.weight")
                ? (int) gguf.tensors().get("token_embd.weight").dims()[1]
                : ((List<?>) gguf.require("tokenizer.ggml.tokens")).size();
        if (gguf.metadata().get("llama.rope.dimension_count") instanceof Number ropeDims && ropeDims.intValue() != dim / heads) {
            throw new ModelFileException(gguf.path(), "partial rotary embedding (" + ropeDims + " of " + dim / heads
                    + " head dimensions) is not supported");
        }
        float eps = ((Number) gguf.require("llama.attention.layer_norm_rms_epsilon")).floatValue();
        float theta = gguf.metadata().get("llama.rope.freq_base") instanceof Number n ? n.floatValue() : 10000f;
        try {
            return new LlamaConfig(dim, gguf.requireInt("llama.feed_forward_length"), gguf.requireInt("llama.block_count"),
                    heads, kvHeads, vocab, gguf.requireInt("llama.context_length"), eps, theta);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(gguf.path(), "implausible model config: " + e.getMessage(), e);
        }
    }
}
