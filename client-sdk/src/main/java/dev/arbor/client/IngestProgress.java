package dev.arbor.client;

/**
 * Where an ingestion stands.
 *
 * @param tokensCommitted tokens the server committed for this call
 * @param contextTokens tokens in the context now
 * @param bytesSent bytes of input sent so far
 * @param bytesTotal total input bytes when known (a file), else -1
 * @param done true once the server committed everything
 */
public record IngestProgress(long tokensCommitted, long contextTokens, long bytesSent, long bytesTotal, boolean done) {}
