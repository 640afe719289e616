package dev.arbor.decoder;

/**
 * What tree attention keeps exactly and how hard it searches.
 *
 * @param sinks first positions always attended exactly (attention sinks)
 * @param window most recent positions always attended exactly
 * @param topK keys retrieved through the tree per query head
 * @param maxLeaves leaf blocks a search may open before it settles for coarse summaries (beam cap)
 */
public record TreeAttentionSettings(int sinks, int window, int topK, int maxLeaves) {

    public TreeAttentionSettings {
        if (sinks < 0 || window < 1 || topK < 0 || maxLeaves < 0) {
            throw new IllegalArgumentException("tree attention needs sinks >= 0, window >= 1, topK >= 0, maxLeaves >= 0;"
                    + " got sinks=" + sinks + " window=" + window + " topK=" + topK + " maxLeaves=" + maxLeaves);
        }
    }

    /** 4 sinks, a 64-token window, top-64 keys, at most 16 leaf blocks opened per query head. */
    public static TreeAttentionSettings defaults() {
        return new TreeAttentionSettings(4, 64, 64, 16);
    }

    /** Retrieves every key: tree attention must then give exactly what dense attention gives. */
    public static TreeAttentionSettings everything() {
        return new TreeAttentionSettings(4, 64, Integer.MAX_VALUE, Integer.MAX_VALUE);
    }
}
