package dev.arbor.client;

/** Told about ingestion progress as the server commits tokens. Called on a gRPC thread: return quickly. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = progress -> {};

    void onProgress(IngestProgress progress);
}
