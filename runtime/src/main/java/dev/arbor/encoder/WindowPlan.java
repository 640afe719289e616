package dev.arbor.encoder;

/**
 * How a long text is cut into overlapping model windows. Each window holds {@code windowTokens}
 * text tokens (plus [CLS] and [SEP]); consecutive windows share {@code overlapTokens}; a token takes
 * its vector from the window where it sits furthest from an edge, so every kept vector saw at least
 * {@code overlapTokens / 2} tokens of context on both sides (except at the document's ends).
 * {@code batchWindows} windows run in one model call, which amortises the per-call cost.
 *
 * @param windowTokens text tokens per window, at most {@value MiniLmEncoder#MAX_TEXT_TOKENS}
 * @param overlapTokens tokens shared by neighbouring windows; the extra model work is
 *     {@code windowTokens / (windowTokens - overlapTokens)}
 * @param batchWindows windows per model call
 */
public record WindowPlan(int windowTokens, int overlapTokens, int batchWindows) {

    public WindowPlan {
        if (windowTokens < 2 || windowTokens > MiniLmEncoder.MAX_TEXT_TOKENS) {
            throw new IllegalArgumentException("window must hold 2.." + MiniLmEncoder.MAX_TEXT_TOKENS
                    + " tokens (the model takes 512 including [CLS] and [SEP]), got " + windowTokens);
        }
        if (overlapTokens < 0 || overlapTokens > windowTokens / 2) {
            throw new IllegalArgumentException("overlap must be 0.." + windowTokens / 2
                    + " tokens for a window of " + windowTokens + ", got " + overlapTokens);
        }
        if (batchWindows < 1) {
            throw new IllegalArgumentException("batch must hold at least one window, got " + batchWindows);
        }
    }

    /**
     * 128-token windows overlapping by 32, 8 per model call. Measured against 256/64: faster on 2
     * cores ({@code EncoderBenchmark}), and better needle retrieval ({@code RetrievalAccuracyBenchmark}:
     * paraphrased questions 5/9 first against 4/9), plausibly because all-MiniLM-L6-v2 was trained
     * on sequences of at most 128 tokens.
     */
    public static WindowPlan defaults() {
        return new WindowPlan(128, 32, 8);
    }

    /** Tokens between the starts of consecutive windows. */
    public int strideTokens() {
        return windowTokens - overlapTokens;
    }

    /** Tokens at each window edge whose vectors come from the neighbouring window instead. */
    int marginTokens() {
        return overlapTokens / 2;
    }
}
