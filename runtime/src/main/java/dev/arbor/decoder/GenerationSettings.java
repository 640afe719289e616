package dev.arbor.decoder;

import dev.arbor.tree.SearchParams;
import java.util.List;

/**
 * How one request generates: attention mode, length, sampling and stop strings.
 *
 * @param mode exact or tree attention for this request
 * @param treeParams how tree attention searches (top-k, beam, sinks, window) for this request
 * @param maxTokens most tokens to generate
 * @param temperature 0 for greedy decoding
 * @param topP nucleus size when sampling
 * @param seed seed of the sampler, for reproducible samples
 * @param stopStrings generation stops once the text ends with any of these (the stop string is kept)
 */
public record GenerationSettings(
        AttentionMode mode, SearchParams treeParams, int maxTokens, float temperature, float topP, long seed, List<String> stopStrings) {

    public GenerationSettings {
        if (mode == null || treeParams == null) {
            throw new IllegalArgumentException("attention mode and tree search parameters must be set");
        }
        if (maxTokens <= 0) {
            throw new IllegalArgumentException("max tokens must be positive, got " + maxTokens);
        }
        stopStrings = List.copyOf(stopStrings);
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private AttentionMode mode = AttentionMode.EXACT;
        private SearchParams treeParams = LlamaModel.DEFAULT_TREE_SEARCH;
        private int maxTokens = 256;
        private float temperature = 0;
        private float topP = 1;
        private long seed = 0;
        private List<String> stopStrings = List.of();

        private Builder() {}

        public Builder mode(AttentionMode mode) {
            this.mode = mode;
            return this;
        }

        public Builder treeParams(SearchParams treeParams) {
            this.treeParams = treeParams;
            return this;
        }

        public Builder maxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        public Builder temperature(float temperature) {
            this.temperature = temperature;
            return this;
        }

        public Builder topP(float topP) {
            this.topP = topP;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder stopStrings(List<String> stopStrings) {
            this.stopStrings = stopStrings;
            return this;
        }

        public GenerationSettings build() {
            return new GenerationSettings(mode, treeParams, maxTokens, temperature, topP, seed, stopStrings);
        }
    }
}
