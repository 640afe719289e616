package dev.arbor.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.arbor.weights.ModelFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A Hugging Face {@code tokenizer.json} run by DJL's bindings to the {@code tokenizers} library, offline
 * (the native library ships inside the DJL jar). BOS and EOS come from the model's {@code config.json}.
 */
public final class HuggingFaceTokenizerAdapter implements Tokenizer {
    private final HuggingFaceTokenizer tokenizer;
    private final int bos;
    private final int eos;
    private final int vocabSize;

    private HuggingFaceTokenizerAdapter(HuggingFaceTokenizer tokenizer, int bos, int eos, int vocabSize) {
        this.tokenizer = tokenizer;
        this.bos = bos;
        this.eos = eos;
        this.vocabSize = vocabSize;
    }

    public static HuggingFaceTokenizerAdapter load(Path tokenizerJson, Path configJson) {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new ModelFileException(tokenizerJson, "tokenizer file not found");
        }
        JsonNode tokenizer = json(tokenizerJson);
        if (!tokenizer.path("model").has("type") && !tokenizer.path("model").has("vocab")) {
            throw new ModelFileException(tokenizerJson, "unknown tokenizer: no 'model' section, not a Hugging Face tokenizer.json");
        }
        int vocabSize = tokenizer.path("model").path("vocab").size();
        for (JsonNode added : tokenizer.path("added_tokens")) {
            vocabSize = Math.max(vocabSize, added.path("id").asInt() + 1);
        }
        JsonNode config = Files.isRegularFile(configJson) ? json(configJson) : new ObjectMapper().createObjectNode();
        try {
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(tokenizerJson)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
            return new HuggingFaceTokenizerAdapter(hf, config.path("bos_token_id").asInt(1),
                    config.path("eos_token_id").asInt(2), vocabSize);
        } catch (IOException | RuntimeException e) {
            throw new ModelFileException(tokenizerJson, "the tokenizers library rejected this tokenizer: " + e.getMessage(), e);
        }
    }

    private static JsonNode json(Path file) {
        try {
            return new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new ModelFileException(file, "not valid JSON: " + e.getMessage(), e);
        }
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        long[] ids = tokenizer.encode(text).getIds();
        int offset = addBos ? 1 : 0;
        int[] out = new int[ids.length + offset];
        if (addBos) {
            out[0] = bos;
        }
        for (int i = 0; i < ids.length; i++) {
            out[i + offset] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        return tokenizer.decode(Arrays.stream(ids).asLongStream().toArray(), true);
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int eos() {
        return eos;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }
}
