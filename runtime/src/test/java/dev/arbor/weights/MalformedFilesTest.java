package dev.arbor.weights;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.decoder.Checkpoint;
import dev.arbor.testing.SharedData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every broken input fails with a message that names the file and says what is wrong. */
class MalformedFilesTest {
    @TempDir
    Path dir;

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("nope.gguf");
        expect(missing, "file not found", () -> Checkpoint.load(missing));
    }

    @Test
    void aTruncatedGgufSaysTruncated() throws IOException {
        byte[] whole = Files.readAllBytes(SharedData.stories260kGguf());
        Path cut = write("cut.gguf", Arrays.copyOf(whole, whole.length / 2));
        expect(cut, "truncated", () -> Checkpoint.load(cut));
        Path headerOnly = write("header.gguf", Arrays.copyOf(whole, 200));
        expect(headerOnly, "truncated", () -> Checkpoint.load(headerOnly));
    }

    @Test
    void aTruncatedLlama2cCheckpointSaysTruncated() throws IOException {
        byte[] whole = Files.readAllBytes(SharedData.stories260kBin());
        Path cut = write("cut.bin", Arrays.copyOf(whole, 100_000));
        expect(cut, "truncated", () -> Llama2cCheckpoint.load(cut));
    }

    @Test
    void badGgufMagicAndUnsupportedVersionAreNamed() throws IOException {
        byte[] whole = Files.readAllBytes(SharedData.stories260kGguf());
        Path wrongMagic = write("magic.gguf", whole.clone());
        byte[] bytes = Files.readAllBytes(wrongMagic);
        bytes[0] = 'X';
        Files.write(wrongMagic, bytes);
        expect(wrongMagic, "bad magic", () -> GgufFile.open(wrongMagic));
        byte[] v9 = whole.clone();
        v9[4] = 9;
        Path version = write("v9.gguf", v9);
        expect(version, "version 9", () -> GgufFile.open(version));
    }

    @Test
    void anUnsupportedTensorTypeIsNamed() throws IOException {
        GgufFile original = GgufFile.open(SharedData.stories260kGguf());
        byte[] bytes = Files.readAllBytes(SharedData.stories260kGguf());
        // Rewrite token_embd.weight's type field (right after its dims) to Q4_0 (2).
        int at = indexOf(bytes, "token_embd.weight".getBytes()) + "token_embd.weight".length() + 4 + 8 * 2;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(at, 2);
        Path quantised = write("q4.gguf", bytes);
        assertTrue(original.tensors().containsKey("token_embd.weight"));
        expect(quantised, "unsupported GGML type 2", () -> Checkpoint.load(quantised));
    }

    @Test
    void aConfigThatDoesNotMatchTheWeightsIsNamed() throws IOException {
        byte[] bytes = Files.readAllBytes(SharedData.stories260kBin());
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 200); // hidden_dim 172 → 200
        Path file = write("stories.bin", bytes);
        Files.copy(SharedData.stories260kTokenizer(), dir.resolve("tok512.bin"));
        expect(file, "truncated", () -> Checkpoint.load(file));

        Path folder = Files.createDirectories(dir.resolve("hf"));
        Files.writeString(folder.resolve("config.json"), """
                {"model_type": "llama", "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 5,
                 "num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 512}""");
        Files.write(folder.resolve("model.safetensors"), safetensors("model.embed_tokens.weight", "F32", 512, 32));
        expect(folder.resolve("model.safetensors"), "config does not match the weights",
                () -> HuggingFaceCheckpoint.load(folder));
    }

    @Test
    void aConfigMissingAFieldNamesTheField() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("hf"));
        Files.writeString(folder.resolve("config.json"), "{\"model_type\": \"llama\", \"hidden_size\": 64}");
        expect(folder.resolve("config.json"), "num_attention_heads", () -> HuggingFaceCheckpoint.load(folder));
    }

    @Test
    void anUnsupportedSafetensorsDtypeIsNamed() throws IOException {
        Path file = write("int.safetensors", safetensors("w", "I8", 4, 4));
        expect(file, "unsupported dtype I8", () -> SafetensorsFile.open(file).tensor("w", 4, 4));
    }

    @Test
    void halfAndBfloat16SafetensorsAreWidenedToFloat() throws IOException {
        float[] values = {1f, -2.5f, 0.099975586f, 65504f};
        ByteBuffer f16 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bf16 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            f16.putShort(Float.floatToFloat16(v));
            bf16.putShort((short) (Float.floatToIntBits(v) >>> 16));
        }
        Path half = write("h.safetensors", safetensors("w", "F16", f16.array(), 2, 2));
        Path brain = write("b.safetensors", safetensors("w", "BF16", bf16.array(), 2, 2));
        float[] fromHalf = SafetensorsFile.open(half).tensor("w", 2, 2);
        float[] fromBrain = SafetensorsFile.open(brain).tensor("w", 2, 2);
        for (int i = 0; i < values.length; i++) {
            assertTrue(Math.abs(values[i] - fromHalf[i]) <= Math.ulp(Float.float16ToFloat(Float.floatToFloat16(values[i]))),
                    "F16 " + values[i] + " read as " + fromHalf[i]);
            assertTrue(Math.abs(values[i] - fromBrain[i]) <= Math.abs(values[i]) / 128, "BF16 " + values[i] + " read as " + fromBrain[i]);
        }
    }

    @Test
    void anUnknownTokenizerIsNamed() throws IOException {
        Path vocab = write("vocab.txt", "hello\nworld\n".getBytes());
        expect(vocab, "unknown tokenizer", () -> Checkpoint.load(SharedData.stories260kBin(), vocab));
        Path wrongSize = write("tok.bin", Files.readAllBytes(SharedData.stories260kTokenizer()));
        expect(wrongSize, "another model", () -> dev.arbor.tokenizer.SentencePieceBpe.fromLlama2c(wrongSize, 300));
    }

    @Test
    void aLlama2cCheckpointWithoutATokenizerBesideItSaysWhatIsExpected() throws IOException {
        Path lonely = write("model.bin", Files.readAllBytes(SharedData.stories260kBin()));
        expect(lonely, "tok512.bin", () -> Checkpoint.load(lonely));
    }

    private static void expect(Path file, String problem, Executable action) {
        ModelFileException e = assertThrows(ModelFileException.class, action);
        assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(problem), "message says '" + problem + "': " + e.getMessage());
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static byte[] safetensors(String name, String dtype, long rows, long cols) {
        int width = dtype.equals("F32") ? 4 : dtype.endsWith("16") ? 2 : 1;
        return safetensors(name, dtype, new byte[(int) (rows * cols * width)], rows, cols);
    }

    private static byte[] safetensors(String name, String dtype, byte[] data, long rows, long cols) {
        byte[] header = ("{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + rows + "," + cols
                + "],\"data_offsets\":[0," + data.length + "]}}").getBytes();
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return out.putLong(header.length).put(header).put(data).array();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalArgumentException("not found");
    }
}
