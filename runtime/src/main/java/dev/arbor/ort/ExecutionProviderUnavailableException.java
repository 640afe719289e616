package dev.arbor.ort;

/** The configured execution provider cannot run on this machine or with this build. */
public final class ExecutionProviderUnavailableException extends IllegalStateException {
    public ExecutionProviderUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
