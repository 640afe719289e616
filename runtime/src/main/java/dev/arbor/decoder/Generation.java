package dev.arbor.decoder;

/** The outcome of a request: generated ids, their text, and why generation stopped. */
public record Generation(int[] tokens, String text, StopReason stopReason) {

    public enum StopReason {
        END_OF_SEQUENCE,
        MAX_TOKENS,
        STOP_STRING,
        CANCELLED
    }
}
