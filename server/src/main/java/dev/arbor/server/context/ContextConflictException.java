package dev.arbor.server.context;

/** A context of that name already exists for the tenant. */
public final class ContextConflictException extends IllegalStateException {
    public ContextConflictException(String message) {
        super(message);
    }
}
