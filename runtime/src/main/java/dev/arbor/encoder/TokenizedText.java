package dev.arbor.encoder;

import java.util.Arrays;

/**
 * Word-piece token ids of a text with each token's character span, as UTF-16 indices into that
 * text (what {@link String#substring(int, int)} takes). Special tokens ([CLS], [SEP]) are not
 * included: windows add them when they run the model.
 *
 * @param ids vocabulary ids, in text order
 * @param starts index of each token's first character
 * @param ends index one past each token's last character
 */
public record TokenizedText(long[] ids, int[] starts, int[] ends) {

    public TokenizedText {
        if (ids.length != starts.length || ids.length != ends.length) {
            throw new IllegalArgumentException("ids, starts and ends must have one entry per token");
        }
    }

    public int size() {
        return ids.length;
    }

    /** The tokens {@code [from, to)}. */
    public TokenizedText slice(int from, int to) {
        return new TokenizedText(
                Arrays.copyOfRange(ids, from, to), Arrays.copyOfRange(starts, from, to), Arrays.copyOfRange(ends, from, to));
    }
}
