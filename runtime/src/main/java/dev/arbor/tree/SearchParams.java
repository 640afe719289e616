package dev.arbor.tree;

/**
 * What a search or an attention call retrieves.
 *
 * @param k how many keys to retrieve by score
 * @param mode exact branch and bound, or a bounded beam
 * @param beam nodes kept per tree level in approximate mode (leaves scanned, at the bottom level)
 * @param sinks the first positions of the sequence, always attended (attention sinks)
 * @param window the most recent positions, always attended (local window)
 */
public record SearchParams(int k, SearchMode mode, int beam, int sinks, int window) {
    public SearchParams {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive: it is the number of keys to retrieve, got " + k);
        }
        if (mode == null) {
            throw new IllegalArgumentException("search mode must be set (EXACT or APPROXIMATE)");
        }
        if (beam <= 0) {
            throw new IllegalArgumentException("beam must be positive, got " + beam);
        }
        if (sinks < 0 || window < 0) {
            throw new IllegalArgumentException(
                    "sinks and window must be zero or more, got sinks " + sinks + " and window " + window);
        }
    }

    /**
     * What a user gets by default: approximate top-64, beam 56, 4 sinks and a window of 64. Beam 56
     * with {@code TreeSearcher.SCAN_FLOOR} at 1e-5 against beam 64 with the floor at 0.01 (262,144
     * keys, one JVM, cold caches, interleaved, load ~6): MiniLM keys (dim 384) recall@64 0.853 → 0.862
     * at 2.38 → 2.36 ms; synthetic keys (dim 64) 0.9905 → about 0.998 (beam 48 gave 0.9973 at 0.77 ms
     * against 0.77 ms, beam 64 0.9980 at 14 % more time).
     */
    public static SearchParams defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().k(k).mode(mode).beam(beam).sinks(sinks).window(window);
    }

    public static final class Builder {
        private int k = 64;
        private SearchMode mode = SearchMode.APPROXIMATE;
        private int beam = 56;
        private int sinks = 4;
        private int window = 64;

        private Builder() {}

        public Builder k(int k) {
            this.k = k;
            return this;
        }

        public Builder mode(SearchMode mode) {
            this.mode = mode;
            return this;
        }

        public Builder beam(int beam) {
            this.beam = beam;
            return this;
        }

        public Builder sinks(int sinks) {
            this.sinks = sinks;
            return this;
        }

        public Builder window(int window) {
            this.window = window;
            return this;
        }

        public SearchParams build() {
            return new SearchParams(k, mode, beam, sinks, window);
        }
    }
}
