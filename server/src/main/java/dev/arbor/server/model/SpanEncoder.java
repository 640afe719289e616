package dev.arbor.server.model;

import java.util.List;

/**
 * The server's seam to a model: turns text into token counts and span vectors. Every RPC's
 * validation, flow control and streaming is written against this interface, so the ingestion
 * pipeline does not care which model (or which runtime module) produces the vectors.
 */
public interface SpanEncoder extends AutoCloseable {

    /** The model's catalogue entry. */
    ModelInfo info();

    /** Token ids of {@code text}, without special tokens. */
    long[] tokenize(String text);

    /** Text of token ids, the inverse of {@link #tokenize} up to whitespace and case normalisation. */
    String detokenize(long[] ids);

    /** One unit-length vector per token sequence (at most {@link ModelInfo#maxSpanTokens()} ids each). */
    float[][] encode(List<long[]> spans);

    @Override
    void close();
}
