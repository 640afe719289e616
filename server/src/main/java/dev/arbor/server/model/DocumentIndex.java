package dev.arbor.server.model;

import dev.arbor.retrieval.Span;
import java.util.List;

/**
 * One context's searchable text. One {@link Appender} at a time adds text (the context's current
 * ingestion); {@link #retrieve} may run concurrently from any thread and sees what is committed.
 */
public interface DocumentIndex {

    /** Starts appending after everything received so far. */
    Appender appender();

    /**
     * The {@code k} spans that best answer {@code question}, best first.
     *
     * @throws IllegalArgumentException if the question is empty, too long for the model, or k is out of range
     */
    List<Span> retrieve(String question, int k);

    /** Tokens committed (encoded and searchable). */
    long tokens();

    /** Characters received, committed or not. */
    long chars();

    /** Adds one ingestion's text to the index. */
    interface Appender {
        /** Adds a piece of text cut anywhere; returns the tokens this appender has committed so far. */
        long append(CharSequence piece);

        /** Commits what is still pending; returns the tokens this appender committed in all. */
        long finish();
    }
}
