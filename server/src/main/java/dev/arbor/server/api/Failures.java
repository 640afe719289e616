package dev.arbor.server.api;

import dev.arbor.server.context.ContextConflictException;
import dev.arbor.server.context.ContextLimitException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CancellationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns what went wrong into the gRPC status a client sees. */
final class Failures {
    private static final Logger log = LoggerFactory.getLogger(Failures.class);

    private Failures() {}

    static StatusRuntimeException contextNotFound(String name) {
        return Status.NOT_FOUND.withDescription("context '" + name + "' does not exist").asRuntimeException();
    }

    static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    static StatusRuntimeException toStatus(Throwable t) {
        return switch (t) {
            case StatusRuntimeException e -> e;
            case IllegalArgumentException e -> invalid(e.getMessage());
            case ContextConflictException e -> Status.ALREADY_EXISTS.withDescription(e.getMessage()).asRuntimeException();
            case ContextLimitException e -> Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException();
            case CancellationException e -> Status.CANCELLED.withDescription(e.getMessage()).asRuntimeException();
            default -> {
                log.error("internal error", t);
                yield Status.INTERNAL.withDescription("internal error: " + t).withCause(t).asRuntimeException();
            }
        };
    }
}
