package dev.arbor.decoder;

import dev.arbor.tree.SearchParams;
import dev.arbor.tree.TreeSettings;
import dev.arbor.weights.LlamaConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * One sequence being decoded: the keys and values of every position seen so far, per layer. Positions
 * simply continue past the trained length; rotary positions work at any index.
 */
public final class DecoderContext {
    private final List<KvCache> layers = new ArrayList<>();
    private SearchParams treeParams;
    private int length;
    private int[] lastAttended = new int[0];

    DecoderContext(LlamaConfig config, SearchParams treeParams, TreeSettings treeSettings, int initialCapacity) {
        this.treeParams = treeParams;
        for (int l = 0; l < config.layers(); l++) {
            layers.add(new KvCache(config.kvHeads(), config.headSize(), treeSettings, initialCapacity,
                    treeParams.sinks(), treeParams.window()));
        }
    }

    /** How {@link AttentionMode#TREE} retrieves in this context. */
    public SearchParams treeParams() {
        return treeParams;
    }

    /**
     * Changes how tree attention retrieves from now on, e.g. per request; the cached keys stay. The sinks
     * and window the context was created with stay attended finely even if {@code params} asks for fewer.
     */
    public void treeParams(SearchParams params) {
        if (params == null) {
            throw new IllegalArgumentException("tree search parameters must be set");
        }
        this.treeParams = params;
    }

    /** Positions the last forwarded token attended to most, strongest first. */
    public int[] lastAttended() {
        return lastAttended.clone();
    }

    void lastAttended(int[] positions) {
        this.lastAttended = positions;
    }

    /** Positions already in the context; the next token goes at this position. */
    public int length() {
        return length;
    }

    KvCache layer(int index) {
        return layers.get(index);
    }

    void advance(int tokens) {
        length += tokens;
    }
}
