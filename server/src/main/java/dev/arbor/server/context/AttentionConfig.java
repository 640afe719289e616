package dev.arbor.server.context;

/**
 * How queries attend over a context. Zeros in a request mean "use the default", which
 * {@link #withDefaults} fills in.
 */
public record AttentionConfig(int topK, int leafBlockSize, int beamWidth, int sinkTokens, int localWindow) {
    public static final AttentionConfig DEFAULTS = new AttentionConfig(64, 64, 0, 4, 64);
    private static final int MAX = 1 << 16;

    public AttentionConfig {
        check("top_k", topK);
        check("leaf_block_size", leafBlockSize);
        check("beam_width", beamWidth);
        check("sink_tokens", sinkTokens);
        check("local_window", localWindow);
    }

    public AttentionConfig withDefaults() {
        return new AttentionConfig(
                topK == 0 ? DEFAULTS.topK : topK,
                leafBlockSize == 0 ? DEFAULTS.leafBlockSize : leafBlockSize,
                beamWidth,
                sinkTokens == 0 ? DEFAULTS.sinkTokens : sinkTokens,
                localWindow == 0 ? DEFAULTS.localWindow : localWindow);
    }

    private static void check(String field, int value) {
        if (value < 0 || value > MAX) {
            throw new IllegalArgumentException("attention." + field + " must be between 0 and " + MAX + ", got " + value);
        }
    }
}
