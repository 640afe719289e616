package dev.arbor.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Llama weights from a Hugging Face folder: {@code config.json} and {@code model.safetensors}.
 *
 * <p>Hugging Face's Llama rotates the two halves of each head ("rotate half") where llama2.c and GGUF
 * rotate adjacent pairs; its converter permutes the Q and K rows to match. Loading undoes that
 * permutation so every format runs through the same graphs. {@link #permuteForRotateHalf} is the
 * inverse, for writing such a folder.
 */
public final class HuggingFaceCheckpoint {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";

    private HuggingFaceCheckpoint() {}

    public static LlamaWeights load(Path folder) {
        LlamaConfig c = config(folder.resolve(CONFIG));
        SafetensorsFile st = SafetensorsFile.open(folder.resolve(WEIGHTS));
        long dim = c.dim();
        long kvDim = c.kvDim();
        long hidden = c.hiddenDim();
        float[] embedding = st.tensor("model.embed_tokens.weight", c.vocabSize(), dim);
        float[] classifier = st.contains("lm_head.weight") ? st.tensor("lm_head.weight", c.vocabSize(), dim) : embedding;
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            float[] q = st.tensor(p + "self_attn.q_proj.weight", dim, dim);
            float[] k = st.tensor(p + "self_attn.k_proj.weight", kvDim, dim);
            layers.add(new LayerWeights(
                    st.tensor(p + "input_layernorm.weight", dim),
                    interleave(q, c.heads(), c.headSize(), c.dim()),
                    interleave(k, c.kvHeads(), c.headSize(), c.dim()),
                    st.tensor(p + "self_attn.v_proj.weight", kvDim, dim),
                    st.tensor(p + "self_attn.o_proj.weight", dim, dim),
                    st.tensor(p + "post_attention_layernorm.weight", dim),
                    st.tensor(p + "mlp.gate_proj.weight", hidden, dim),
                    st.tensor(p + "mlp.down_proj.weight", dim, hidden),
                    st.tensor(p + "mlp.up_proj.weight", hidden, dim)));
        }
        float[] finalNorm = st.tensor("model.norm.weight", dim);
        return new LlamaWeights(c, embedding, layers, finalNorm, classifier).validated(st.path());
    }

    /** Reads the fields of a Llama {@code config.json}, naming any that are missing. */
    public static LlamaConfig config(Path file) {
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ModelFileException(file, "file not found (a Hugging Face checkpoint needs config.json)", e);
        } catch (IOException e) {
            throw new ModelFileException(file, "not valid JSON: " + e.getMessage(), e);
        }
        String type = json.path("model_type").asText("llama");
        if (!type.equals("llama")) {
            throw new ModelFileException(file, "model_type '" + type + "' is not supported (only llama)");
        }
        int heads = integer(file, json, "num_attention_heads");
        int kvHeads = json.has("num_key_value_heads") ? integer(file, json, "num_key_value_heads") : heads;
        try {
            return new LlamaConfig(integer(file, json, "hidden_size"), integer(file, json, "intermediate_size"),
                    integer(file, json, "num_hidden_layers"), heads, kvHeads, integer(file, json, "vocab_size"),
                    json.path("max_position_embeddings").asInt(2048),
                    (float) json.path("rms_norm_eps").asDouble(1e-5), (float) json.path("rope_theta").asDouble(10000));
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, "implausible model config: " + e.getMessage(), e);
        }
    }

    private static int integer(Path file, JsonNode json, String field) {
        JsonNode node = json.get(field);
        if (node == null || !node.canConvertToInt()) {
            throw new ModelFileException(file, "field '" + field + "' is missing or not an integer");
        }
        return node.asInt();
    }

    /** Rotate-half row order to adjacent-pair order: row {@code half*hs/2 + i} becomes row {@code 2i + half}. */
    static float[] interleave(float[] rows, int heads, int headSize, int cols) {
        float[] out = new float[rows.length];
        for (int h = 0; h < heads; h++) {
            for (int half = 0; half < 2; half++) {
                for (int i = 0; i < headSize / 2; i++) {
                    int from = h * headSize + half * headSize / 2 + i;
                    int to = h * headSize + 2 * i + half;
                    System.arraycopy(rows, from * cols, out, to * cols, cols);
                }
            }
        }
        return out;
    }

    /** Adjacent-pair row order to the rotate-half order Hugging Face stores. */
    public static float[] permuteForRotateHalf(float[] rows, int heads, int headSize, int cols) {
        float[] out = new float[rows.length];
        for (int h = 0; h < heads; h++) {
            for (int half = 0; half < 2; half++) {
                for (int i = 0; i < headSize / 2; i++) {
                    int to = h * headSize + half * headSize / 2 + i;
                    int from = h * headSize + 2 * i + half;
                    System.arraycopy(rows, from * cols, out, to * cols, cols);
                }
            }
        }
        return out;
    }
}
