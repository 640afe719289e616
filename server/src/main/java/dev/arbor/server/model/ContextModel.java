package dev.arbor.server.model;

/**
 * The server's seam to a model: it opens the per-context index that ingestion appends to and
 * questions search. Every RPC's validation, flow control and streaming is written against this
 * interface and {@link DocumentIndex}, independent of how the runtime encodes and searches.
 */
public interface ContextModel extends AutoCloseable {

    ModelInfo info();

    /** An empty index for a new (or reopened) context. */
    DocumentIndex newIndex();

    /** Text of token ids, so ingested token ids can be kept and shown as text. */
    String detokenize(long[] ids);

    @Override
    void close();
}
