package dev.arbor.tokenizer;

import dev.arbor.weights.GgufFile;
import dev.arbor.weights.ModelFileException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * SentencePiece BPE as llama2.c runs it: a space is prepended to the text, each UTF-8 character
 * becomes its piece (or its bytes, as byte tokens, when there is none), then the adjacent pair whose
 * merged piece has the highest score is merged until no pair forms a piece.
 */
public final class SentencePieceBpe implements Tokenizer {
    private static final Pattern BYTE_PIECE = Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> ids = new HashMap<>();
    private final int[] byteTokens = new int[256];
    private final int bos;
    private final int eos;

    /** Pieces use a plain space where SentencePiece writes U+2581. */
    public SentencePieceBpe(List<String> pieces, float[] scores, int bos, int eos) {
        if (pieces.size() != scores.length) {
            throw new IllegalArgumentException(pieces.size() + " pieces but " + scores.length + " scores");
        }
        this.pieces = pieces.toArray(String[]::new);
        this.scores = scores.clone();
        this.bos = bos;
        this.eos = eos;
        for (int i = 0; i < this.pieces.length; i++) {
            if (i != bos && i != eos) {
                ids.putIfAbsent(this.pieces[i], i);
            }
        }
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = ids.getOrDefault(String.format("<0x%02X>", b), b + 3);
        }
    }

    /**
     * Reads llama2.c's {@code tokenizer.bin} format: int32 max piece length, then per token a float32
     * score, an int32 byte length and the UTF-8 bytes. BOS is 1 and EOS is 2 in that format.
     */
    public static SentencePieceBpe fromLlama2c(Path file, int vocabSize) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ModelFileException(file, "tokenizer file not found", e);
        } catch (IOException e) {
            throw new ModelFileException(file, "cannot read tokenizer: " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        List<String> pieces = new ArrayList<>();
        float[] scores = new float[vocabSize];
        try {
            int maxLength = b.getInt();
            for (int i = 0; i < vocabSize; i++) {
                scores[i] = b.getFloat();
                int length = b.getInt();
                if (length < 0 || length > maxLength || length > b.remaining()) {
                    throw new ModelFileException(file, "not a llama2.c tokenizer: token " + i + " claims " + length
                            + " bytes (max piece length " + maxLength + ")");
                }
                byte[] piece = new byte[length];
                b.get(piece);
                pieces.add(new String(piece, StandardCharsets.UTF_8));
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new ModelFileException(file, "truncated: the model needs " + vocabSize + " tokens but the file holds "
                    + pieces.size(), e);
        }
        if (b.hasRemaining()) {
            throw new ModelFileException(file, "holds more than the model's " + vocabSize
                    + " tokens: this tokenizer belongs to another model");
        }
        return new SentencePieceBpe(pieces, scores, 1, 2);
    }

    /** The SentencePiece vocabulary embedded in a GGUF file ({@code tokenizer.ggml.model = llama}). */
    public static SentencePieceBpe fromGguf(GgufFile gguf) {
        Object model = gguf.require("tokenizer.ggml.model");
        if (!"llama".equals(model)) {
            throw new ModelFileException(gguf.path(), "unknown tokenizer '" + model
                    + "': Arbor reads the SentencePiece vocabulary ('llama') from GGUF");
        }
        List<?> tokens = (List<?>) gguf.require("tokenizer.ggml.tokens");
        List<?> scoreList = (List<?>) gguf.require("tokenizer.ggml.scores");
        List<String> pieces = new ArrayList<>(tokens.size());
        float[] scores = new float[tokens.size()];
        for (int i = 0; i < tokens.size(); i++) {
            pieces.add(((String) tokens.get(i)).replace('\u2581', ' '));
            scores[i] = ((Number) scoreList.get(i)).floatValue();
        }
        return new SentencePieceBpe(pieces, scores,
                gguf.requireInt("tokenizer.ggml.bos_token_id"), gguf.requireInt("tokenizer.ggml.eos_token_id"));
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        List<Integer> tokens = new ArrayList<>();
        if (addBos) {
            tokens.add(bos);
        }
        int start = tokens.size();
        if (!text.isEmpty()) {
            tokens.add(ids.get(" "));
        }
        text.codePoints().forEach(cp -> {
            String character = Character.toString(cp);
            Integer id = ids.get(character);
            if (id != null) {
                tokens.add(id);
            } else {
                for (byte b : character.getBytes(StandardCharsets.UTF_8)) {
                    tokens.add(byteTokens[b & 0xFF]);
                }
            }
        });
        mergeBestPairs(tokens, start);
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    private void mergeBestPairs(List<Integer> tokens, int start) {
        while (true) {
            float bestScore = Float.NEGATIVE_INFINITY;
            int bestId = -1;
            int bestIndex = -1;
            for (int i = start; i < tokens.size() - 1; i++) {
                Integer merged = ids.get(pieces[tokens.get(i)] + pieces[tokens.get(i + 1)]);
                if (merged != null && scores[merged] > bestScore) {
                    bestScore = scores[merged];
                    bestId = merged;
                    bestIndex = i;
                }
            }
            if (bestIndex < 0) {
                return;
            }
            tokens.set(bestIndex, bestId);
            tokens.remove(bestIndex + 1);
        }
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean atStart = true;
        for (int id : ids) {
            if (id == bos || id == eos) {
                atStart = id == bos;
                continue;
            }
            String piece = pieces[id];
            if (BYTE_PIECE.matcher(piece).matches()) {
                out.write(Integer.parseInt(piece.substring(3, 5), 16));
            } else {
                // The space prepended on encoding is not part of the text.
                String text = atStart && piece.startsWith(" ") ? piece.substring(1) : piece;
                out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
            }
            atStart = false;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The raw piece of a token, with spaces as spaces; for diagnostics and tests. */
    public String piece(int id) {
        return pieces[id];
    }

    public float score(int id) {
        return scores[id];
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
        return pieces.length;
    }
}
