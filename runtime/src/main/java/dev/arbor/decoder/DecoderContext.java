package dev.arbor.decoder;

import dev.arbor.weights.LlamaConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * One sequence being decoded: the keys and values of every position seen so far, per layer. Positions
 * simply continue past the trained length; rotary positions work at any index.
 */
public final class DecoderContext {
    private final List<KvCache> layers = new ArrayList<>();
    private int length;

    DecoderContext(LlamaConfig config, int initialCapacity) {
        for (int l = 0; l < config.layers(); l++) {
            layers.add(new KvCache(config.kvDim(), initialCapacity));
        }
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
