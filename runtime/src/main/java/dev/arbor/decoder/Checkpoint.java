package dev.arbor.decoder;

import dev.arbor.tokenizer.HuggingFaceTokenizerAdapter;
import dev.arbor.tokenizer.SentencePieceBpe;
import dev.arbor.tokenizer.Tokenizer;
import dev.arbor.weights.GgufCheckpoint;
import dev.arbor.weights.GgufFile;
import dev.arbor.weights.HuggingFaceCheckpoint;
import dev.arbor.weights.Llama2cCheckpoint;
import dev.arbor.weights.LlamaWeights;
import dev.arbor.weights.ModelFileException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A decoder's weights with its tokenizer, from any of the formats users bring:
 *
 * <ul>
 *   <li>a {@code .gguf} file (the tokenizer is embedded);
 *   <li>a llama2.c {@code .bin} checkpoint with {@code tokenizer.bin} or {@code tok<vocab>.bin} beside it;
 *   <li>a Hugging Face folder with {@code config.json}, {@code model.safetensors} and {@code tokenizer.json}.
 * </ul>
 */
public record Checkpoint(LlamaWeights weights, Tokenizer tokenizer) {

    public Checkpoint {
        if (tokenizer.vocabSize() != weights.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model's vocabulary has " + weights.config().vocabSize());
        }
    }

    /** Detects the format of {@code path} and finds the tokenizer that belongs to it. */
    public static Checkpoint load(Path path) {
        if (Files.isDirectory(path)) {
            return huggingFace(path);
        }
        if (!Files.exists(path)) {
            throw new ModelFileException(path, "file not found");
        }
        if (startsWithGgufMagic(path)) {
            GgufFile gguf = GgufFile.open(path);
            return new Checkpoint(GgufCheckpoint.load(gguf), SentencePieceBpe.fromGguf(gguf));
        }
        LlamaWeights weights = Llama2cCheckpoint.load(path);
        return new Checkpoint(weights, llama2cTokenizer(path, weights.config().vocabSize()));
    }

    /** A llama2.c checkpoint or Hugging Face folder with an explicitly chosen tokenizer file. */
    public static Checkpoint load(Path path, Path tokenizer) {
        LlamaWeights weights = Files.isDirectory(path) ? HuggingFaceCheckpoint.load(path) : Checkpoint.load(path).weights();
        return new Checkpoint(weights, tokenizer(tokenizer, path, weights.config().vocabSize()));
    }

    private static Checkpoint huggingFace(Path folder) {
        LlamaWeights weights = HuggingFaceCheckpoint.load(folder);
        return new Checkpoint(weights, tokenizer(folder.resolve("tokenizer.json"), folder, weights.config().vocabSize()));
    }

    private static Tokenizer tokenizer(Path file, Path model, int vocabSize) {
        String name = file.getFileName().toString();
        if (name.endsWith(".json")) {
            Path folder = Files.isDirectory(model) ? model : file.toAbsolutePath().getParent();
            return HuggingFaceTokenizerAdapter.load(file, folder.resolve(HuggingFaceCheckpoint.CONFIG));
        }
        if (name.endsWith(".bin")) {
            return SentencePieceBpe.fromLlama2c(file, vocabSize);
        }
        throw new ModelFileException(file, "unknown tokenizer: expected a Hugging Face tokenizer.json or a llama2.c"
                + " tokenizer .bin");
    }

    private static Tokenizer llama2cTokenizer(Path checkpoint, int vocabSize) {
        Path folder = checkpoint.toAbsolutePath().getParent();
        for (String candidate : new String[] {"tok" + vocabSize + ".bin", "tokenizer.bin"}) {
            Path file = folder.resolve(candidate);
            if (Files.isRegularFile(file)) {
                return SentencePieceBpe.fromLlama2c(file, vocabSize);
            }
        }
        throw new ModelFileException(checkpoint, "no tokenizer beside this llama2.c checkpoint: expected tok"
                + vocabSize + ".bin or tokenizer.bin in " + folder);
    }

    private static boolean startsWithGgufMagic(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
        } catch (IOException e) {
            throw new ModelFileException(path, "cannot read: " + e.getMessage(), e);
        }
    }
}
