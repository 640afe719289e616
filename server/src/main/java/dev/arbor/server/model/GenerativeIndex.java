package dev.arbor.server.model;

import dev.arbor.decoder.GeneratedToken;

/** A {@link DocumentIndex} whose model can also generate text over the context. */
public interface GenerativeIndex extends DocumentIndex {

    /**
     * Feeds the prompt after the context and generates up to {@code maxTokens}, handing each token to
     * {@code sink} as it is produced. The prompt and generated tokens stay in the context (a
     * conversation continues where it left off). Generations and ingestion of one context take
     * turns.
     *
     * @param sink returns false to stop generating (the client went away)
     * @return tokens generated
     */
    int generate(String prompt, int maxTokens, float temperature, long seed, TokenSink sink);

    /** Receives generated tokens; may block to apply back-pressure. */
    @FunctionalInterface
    interface TokenSink {
        boolean accept(GeneratedToken token);
    }
}
