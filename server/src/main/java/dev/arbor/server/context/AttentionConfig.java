package dev.arbor.server.context;

import dev.arbor.tree.SearchMode;
import dev.arbor.tree.SearchParams;
import dev.arbor.tree.TreeSettings;

/**
 * How queries attend over a context, as a client asked for it ({@code AttentionSettings} in the API).
 * Zeros mean "the model's default": {@link #withDefaults} fills them from the model, whose
 * {@link dev.arbor.server.model.ContextModel#attention} also refuses what it cannot use.
 */
public record AttentionConfig(int topK, int leafBlockSize, int beamWidth, int sinkTokens, int localWindow,
        boolean exactSearch) {
    /** Every field left to the model. */
    public static final AttentionConfig UNSET = new AttentionConfig(0, 0, 0, 0, 0, false);
    private static final int MAX = 1 << 16;
    private static final int MIN_LEAF = 8;
    private static final int MAX_LEAF = 4096;

    public AttentionConfig {
        check("top_k", topK, MAX);
        check("leaf_block_size", leafBlockSize, MAX_LEAF);
        if (leafBlockSize != 0 && leafBlockSize < MIN_LEAF) {
            throw new IllegalArgumentException("attention.leaf_block_size must be 0 (the default) or between " + MIN_LEAF
                    + " and " + MAX_LEAF + ", got " + leafBlockSize);
        }
        check("beam_width", beamWidth, MAX);
        check("sink_tokens", sinkTokens, MAX);
        check("local_window", localWindow, MAX);
    }

    /** These settings with every zero replaced by the value in {@code defaults}. */
    public AttentionConfig withDefaults(AttentionConfig defaults) {
        return new AttentionConfig(
                topK == 0 ? defaults.topK : topK,
                leafBlockSize == 0 ? defaults.leafBlockSize : leafBlockSize,
                beamWidth == 0 ? defaults.beamWidth : beamWidth,
                sinkTokens == 0 ? defaults.sinkTokens : sinkTokens,
                localWindow == 0 ? defaults.localWindow : localWindow,
                exactSearch || defaults.exactSearch);
    }

    /** The tree search these settings ask for; call on settings with defaults filled in. */
    public SearchParams searchParams() {
        return SearchParams.builder()
                .k(topK)
                .mode(exactSearch ? SearchMode.EXACT : SearchMode.APPROXIMATE)
                .beam(beamWidth)
                .sinks(sinkTokens)
                .window(localWindow)
                .build();
    }

    /** The tree shape these settings ask for; call on settings with defaults filled in. */
    public TreeSettings treeSettings() {
        return TreeSettings.builder().leafCapacity(leafBlockSize).build();
    }

    private static void check(String field, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException("attention." + field + " must be between 0 and " + max + ", got "
                    + Integer.toUnsignedString(value));
        }
    }
}
