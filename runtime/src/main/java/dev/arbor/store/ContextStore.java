package dev.arbor.store;

import java.nio.file.Path;

/**
 * The KV store of one context: a {@link HeadStore} per (layer, key/value head). With a data directory,
 * head {@code (l, h)} keeps its segment files in {@code layer-LLL/head-HHH/}.
 */
public final class ContextStore {
    private final int layers;
    private final int kvHeads;
    private final HeadStore[] heads;

    private ContextStore(Builder builder) {
        this.layers = builder.layers;
        this.kvHeads = builder.kvHeads;
        this.heads = new HeadStore[layers * kvHeads];
        for (int layer = 0; layer < layers; layer++) {
            for (int head = 0; head < kvHeads; head++) {
                HeadStore.Builder headBuilder = HeadStore.builder()
                        .keyDim(builder.keyDim)
                        .valueDim(builder.valueDim)
                        .segmentRows(builder.segmentRows);
                if (builder.directory != null) {
                    headBuilder.directory(builder.directory.resolve(
                            String.format("layer-%03d/head-%03d", layer, head)));
                }
                heads[layer * kvHeads + head] = headBuilder.build();
            }
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public int layers() {
        return layers;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public HeadStore head(int layer, int kvHead) {
        if (layer < 0 || layer >= layers || kvHead < 0 || kvHead >= kvHeads) {
            throw new IndexOutOfBoundsException("no head (" + layer + ", " + kvHead + ") in a store of " + layers
                    + " layers x " + kvHeads + " kv heads");
        }
        return heads[layer * kvHeads + kvHead];
    }

    /** Configures a {@link ContextStore}; every dimension is required. */
    public static final class Builder {
        private int layers;
        private int kvHeads;
        private int keyDim;
        private int valueDim;
        private int segmentRows;
        private Path directory;

        private Builder() {}

        public Builder layers(int layers) {
            this.layers = layers;
            return this;
        }

        public Builder kvHeads(int kvHeads) {
            this.kvHeads = kvHeads;
            return this;
        }

        public Builder keyDim(int keyDim) {
            this.keyDim = keyDim;
            return this;
        }

        public Builder valueDim(int valueDim) {
            this.valueDim = valueDim;
            return this;
        }

        /** Rows per segment; 0 (the default) lets each head choose by its dimensions. */
        public Builder segmentRows(int segmentRows) {
            this.segmentRows = segmentRows;
            return this;
        }

        /** Memory-maps segment files under this directory; without it the store lives in direct memory. */
        public Builder directory(Path directory) {
            this.directory = directory;
            return this;
        }

        public ContextStore build() {
            if (layers <= 0 || kvHeads <= 0) {
                throw new IllegalArgumentException(
                        "a context store needs at least one layer and one kv head, got " + layers + " x " + kvHeads);
            }
            return new ContextStore(this);
        }
    }
}
