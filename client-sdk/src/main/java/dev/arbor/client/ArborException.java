package dev.arbor.client;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;

/**
 * A call to an Arbor server failed. Carries the gRPC {@link Status}; subclasses name the failures a
 * caller typically handles differently.
 */
public class ArborException extends RuntimeException {
    private final transient Status status;

    public ArborException(Status status, Throwable cause) {
        super(status.getCode() + ": " + (status.getDescription() == null ? "(no description)" : status.getDescription()),
                cause);
        this.status = status;
    }

    public Status status() {
        return status;
    }

    public Status.Code code() {
        return status.getCode();
    }

    /** The typed exception for a failed call. */
    public static ArborException from(Throwable t) {
        if (t instanceof ArborException e) {
            return e;
        }
        Status status = switch (t) {
            case StatusRuntimeException e -> e.getStatus();
            case StatusException e -> e.getStatus();
            default -> Status.fromThrowable(t);
        };
        return switch (status.getCode()) {
            case NOT_FOUND -> new NotFoundException(status, t);
            case INVALID_ARGUMENT -> new InvalidRequestException(status, t);
            case ALREADY_EXISTS, FAILED_PRECONDITION -> new ConflictException(status, t);
            case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED -> new UnavailableException(status, t);
            default -> new ArborException(status, t);
        };
    }

    /** The context (or another named thing) does not exist. */
    public static final class NotFoundException extends ArborException {
        NotFoundException(Status status, Throwable cause) {
            super(status, cause);
        }
    }

    /** The request was malformed; retrying it unchanged cannot succeed. */
    public static final class InvalidRequestException extends ArborException {
        InvalidRequestException(Status status, Throwable cause) {
            super(status, cause);
        }
    }

    /** The request clashes with the context's state: it exists already, or it is busy. */
    public static final class ConflictException extends ArborException {
        ConflictException(Status status, Throwable cause) {
            super(status, cause);
        }
    }

    /** The server could not serve the call now: unreachable, out of time, or at a limit. */
    public static final class UnavailableException extends ArborException {
        UnavailableException(Status status, Throwable cause) {
            super(status, cause);
        }
    }
}
