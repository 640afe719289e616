package dev.arbor.server.model;

import dev.arbor.server.context.AttentionConfig;

/**
 * The server's seam to a model: it opens the per-context index that ingestion appends to and
 * questions search. Every RPC's validation, flow control and streaming is written against this
 * interface and {@link DocumentIndex}, independent of how the runtime encodes and searches.
 */
public interface ContextModel extends AutoCloseable {

    ModelInfo info();

    /**
     * The settings a context of this model runs with when a client asks for {@code requested}: zeros
     * take this model's defaults.
     *
     * @throws IllegalArgumentException if the model cannot use a setting (the message says which and why)
     */
    AttentionConfig attention(AttentionConfig requested);

    /** An empty index for a new (or reopened) context, attending as {@code attention} (defaults filled in). */
    DocumentIndex newIndex(AttentionConfig attention);

    /** Text of token ids, so ingested token ids can be kept and shown as text. */
    String detokenize(long[] ids);

    @Override
    void close();
}
