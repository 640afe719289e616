package dev.arbor.tokenizer;

/** Text to token ids and back, for a decoder's vocabulary. */
public interface Tokenizer {

    /** Token ids for {@code text}, with the beginning-of-sequence token first when {@code addBos}. */
    int[] encode(String text, boolean addBos);

    /** The text of a token sequence; special tokens are dropped and byte tokens reassembled into UTF-8. */
    String decode(int[] ids);

    int bos();

    int eos();

    int vocabSize();
}
