package dev.arbor.decoder;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.arbor.tokenizer.SentencePieceBpe;
import dev.arbor.weights.HuggingFaceCheckpoint;
import dev.arbor.weights.LayerWeights;
import dev.arbor.weights.LlamaConfig;
import dev.arbor.weights.LlamaWeights;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a Hugging Face Llama folder (config.json, model.safetensors in F32, tokenizer.json) from weights
 * in Arbor's layout, the way the Hugging Face converter lays them out: Q and K rows permuted for
 * rotate-half RoPE, and a BPE tokenizer.json whose merges are ranked by the SentencePiece scores.
 */
final class HuggingFaceFolder {
    /** Ids below this are the three specials and the 256 byte tokens, which take part in no merge. */
    private static final int FIRST_PIECE = 3 + 256;

    private HuggingFaceFolder() {}

    static void write(Path folder, LlamaWeights weights, SentencePieceBpe tokenizer) throws IOException {
        Files.createDirectories(folder);
        LlamaConfig c = weights.config();
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode()
                .put("model_type", "llama").put("hidden_size", c.dim()).put("intermediate_size", c.hiddenDim())
                .put("num_hidden_layers", c.layers()).put("num_attention_heads", c.heads())
                .put("num_key_value_heads", c.kvHeads()).put("vocab_size", c.vocabSize())
                .put("max_position_embeddings", c.trainedContext()).put("rms_norm_eps", c.rmsEps())
                .put("rope_theta", c.ropeTheta()).put("tie_word_embeddings", true)
                .put("bos_token_id", tokenizer.bos()).put("eos_token_id", tokenizer.eos());
        json.writerWithDefaultPrettyPrinter().writeValue(folder.resolve("config.json").toFile(), config);
        writeSafetensors(folder.resolve("model.safetensors"), tensors(weights));
        json.writeValue(folder.resolve("tokenizer.json").toFile(), tokenizerJson(json, tokenizer));
    }

    private record Tensor(float[] data, long... shape) {}

    private static Map<String, Tensor> tensors(LlamaWeights w) {
        LlamaConfig c = w.config();
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", new Tensor(w.tokenEmbedding(), c.vocabSize(), c.dim()));
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights lw = w.layers().get(l);
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", new Tensor(lw.attentionNorm(), c.dim()));
            t.put(p + "self_attn.q_proj.weight", new Tensor(
                    HuggingFaceCheckpoint.permuteForRotateHalf(lw.wq(), c.heads(), c.headSize(), c.dim()), c.dim(), c.dim()));
            t.put(p + "self_attn.k_proj.weight", new Tensor(
                    HuggingFaceCheckpoint.permuteForRotateHalf(lw.wk(), c.kvHeads(), c.headSize(), c.dim()), c.kvDim(), c.dim()));
            t.put(p + "self_attn.v_proj.weight", new Tensor(lw.wv(), c.kvDim(), c.dim()));
            t.put(p + "self_attn.o_proj.weight", new Tensor(lw.wo(), c.dim(), c.dim()));
            t.put(p + "post_attention_layernorm.weight", new Tensor(lw.ffnNorm(), c.dim()));
            t.put(p + "mlp.gate_proj.weight", new Tensor(lw.gate(), c.hiddenDim(), c.dim()));
            t.put(p + "mlp.down_proj.weight", new Tensor(lw.down(), c.dim(), c.hiddenDim()));
            t.put(p + "mlp.up_proj.weight", new Tensor(lw.up(), c.hiddenDim(), c.dim()));
        }
        t.put("model.norm.weight", new Tensor(w.finalNorm(), c.dim()));
        return t;
    }

    private static void writeSafetensors(Path file, Map<String, Tensor> tensors) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (var e : tensors.entrySet()) {
            ObjectNode entry = header.putObject(e.getKey()).put("dtype", "F32");
            ArrayNode shape = entry.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            long bytes = 4L * e.getValue().data().length;
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] headerBytes = json.writeValueAsBytes(header);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerBytes.length).array());
            out.write(headerBytes);
            for (Tensor t : tensors.values()) {
                ByteBuffer data = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
                data.asFloatBuffer().put(t.data());
                out.write(data.array());
            }
        }
    }

    private static ObjectNode tokenizerJson(ObjectMapper json, SentencePieceBpe sp) {
        ObjectNode root = json.createObjectNode().put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {"<unk>", "<s>", "</s>"};
        for (int id = 0; id < specials.length; id++) {
            added.addObject().put("id", id).put("content", specials[id]).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        ObjectNode normalizer = root.putObject("normalizer").put("type", "Sequence");
        ArrayNode normalizers = normalizer.putArray("normalizers");
        normalizers.addObject().put("type", "Prepend").put("prepend", "\u2581");
        ObjectNode replace = normalizers.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", "\u2581");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        ObjectNode decoder = root.putObject("decoder").put("type", "Sequence");
        ArrayNode decoders = decoder.putArray("decoders");
        ObjectNode spaces = decoders.addObject().put("type", "Replace");
        spaces.putObject("pattern").put("String", "\u2581");
        spaces.put("content", " ");
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);

        ObjectNode model = root.putObject("model").put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true).put("byte_fallback", true).put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int id = 0; id < sp.vocabSize(); id++) {
            String piece = id < specials.length ? specials[id] : sp.piece(id).replace(' ', '\u2581');
            vocab.put(piece, id);
            ids.putIfAbsent(piece, id);
        }
        record Merge(String left, String right, float score, int id) {}
        List<Merge> merges = new ArrayList<>();
        float[] scores = scores(sp);
        for (var e : ids.entrySet()) {
            String piece = e.getKey();
            if (e.getValue() < FIRST_PIECE) {
                continue;
            }
            for (int split = piece.offsetByCodePoints(0, 1); split < piece.length();
                    split = piece.offsetByCodePoints(split, 1)) {
                String left = piece.substring(0, split);
                String right = piece.substring(split);
                if (ids.getOrDefault(left, 0) >= FIRST_PIECE && ids.getOrDefault(right, 0) >= FIRST_PIECE) {
                    merges.add(new Merge(left, right, scores[e.getValue()], e.getValue()));
                }
            }
        }
        merges.sort(Comparator.comparingDouble((Merge m) -> -m.score()).thenComparingInt(Merge::id));
        ArrayNode mergeList = model.putArray("merges");
        merges.forEach(m -> mergeList.add(m.left() + " " + m.right()));
        return root;
    }

    private static float[] scores(SentencePieceBpe sp) {
        float[] scores = new float[sp.vocabSize()];
        for (int id = 0; id < scores.length; id++) {
            scores[id] = sp.score(id);
        }
        return scores;
    }
}
