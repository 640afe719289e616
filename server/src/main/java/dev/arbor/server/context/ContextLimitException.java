package dev.arbor.server.context;

/** A configured limit on contexts or their size would be exceeded. */
public final class ContextLimitException extends IllegalStateException {
    public ContextLimitException(String message) {
        super(message);
    }
}
