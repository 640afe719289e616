package dev.arbor.server.api;

import io.grpc.stub.ServerCallStreamObserver;

/**
 * Outbound flow control for a server stream produced on a worker thread: {@link #awaitReady} blocks
 * the producer while the transport holds its fill of unsent messages, and reports cancellation, so
 * a client that stops reading stops the producer instead of making the server buffer without bound.
 * Must be created inside the RPC method, where gRPC accepts the handlers.
 */
final class ReadyGate {
    private final ServerCallStreamObserver<?> stream;
    private boolean cancelled;

    ReadyGate(ServerCallStreamObserver<?> stream) {
        this.stream = stream;
        stream.setOnReadyHandler(this::signal);
        stream.setOnCancelHandler(() -> {
            synchronized (this) {
                cancelled = true;
            }
            signal();
        });
    }

    /** Waits until the stream can take a message; false if the call was cancelled meanwhile. */
    synchronized boolean awaitReady() {
        while (!cancelled && !stream.isReady()) {
            try {
                // The timeout only guards against a missed signal; readiness normally wakes us.
                wait(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !cancelled;
    }

    synchronized boolean cancelled() {
        return cancelled;
    }

    private synchronized void signal() {
        notifyAll();
    }
}
