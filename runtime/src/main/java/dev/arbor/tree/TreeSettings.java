package dev.arbor.tree;

/**
 * Shape of an {@link AttentionTree}.
 *
 * @param leafCapacity keys a leaf holds before it splits in two
 * @param fanout children an internal node holds before it splits in two
 */
public record TreeSettings(int leafCapacity, int fanout) {
    public TreeSettings {
        if (leafCapacity < 4) {
            throw new IllegalArgumentException("leaf capacity must be at least 4, got " + leafCapacity);
        }
        if (fanout < 4) {
            throw new IllegalArgumentException("fanout must be at least 4, got " + fanout);
        }
    }

    /**
     * Leaves of 128 keys, 16 children per node. Each leaf carries about 1.5 KB of summaries, sketch and
     * code grid; at 128 keys (about 85 when filled) that is under 20 bytes per key, where 64-key leaves
     * took twice as much, and the beam reaches the top-k as well with either size for the same number of
     * keys scanned (measured at 1M keys).
     */
    public static TreeSettings defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int leafCapacity = 128;
        private int fanout = 16;

        private Builder() {}

        public Builder leafCapacity(int leafCapacity) {
            this.leafCapacity = leafCapacity;
            return this;
        }

        public Builder fanout(int fanout) {
            this.fanout = fanout;
            return this;
        }

        public TreeSettings build() {
            return new TreeSettings(leafCapacity, fanout);
        }
    }
}
