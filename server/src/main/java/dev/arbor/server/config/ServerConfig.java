package dev.arbor.server.config;

import dev.arbor.ort.ExecutionProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a server is configured with. {@link ConfigLoader} builds it from defaults, a YAML file,
 * environment variables and command-line flags, each overriding the one before.
 *
 * @param port gRPC port (0 picks a free one)
 * @param metricsPort Prometheus HTTP port (0 picks a free one, -1 disables it)
 * @param dataDir where contexts are stored
 * @param model the default model for new contexts
 * @param decoder checkpoint of a decoder model to serve as well (GGUF, llama2.c .bin or a Hugging Face
 *     folder), or empty for none
 * @param provider ONNX Runtime execution provider
 * @param threads ONNX Runtime intra-op threads (0 lets ONNX Runtime choose)
 * @param ingestThreads ingestion streams processed at the same time
 * @param generateThreads Generate calls running at the same time
 * @param attentionThreads threads a decoder's tree attention searches its kv heads on (0: the processors
 *     available)
 * @param ingestWindow chunks one Ingest stream may have in flight (manual flow control)
 * @param maxChunkBytes largest accepted Ingest chunk
 * @param maxContexts contexts the server holds at most
 * @param maxContextTokens tokens one context holds at most
 * @param shutdownGrace how long shutdown waits for in-flight calls before cancelling them
 */
public record ServerConfig(int port, int metricsPort, Path dataDir, String model, Optional<Path> decoder,
        ExecutionProvider provider, int threads, int ingestThreads, int generateThreads, int attentionThreads, int ingestWindow, int maxChunkBytes, int maxContexts, long maxContextTokens,
        Duration shutdownGrace) {

    public ServerConfig {
        checkPort("port", port, false);
        checkPort("metrics-port", metricsPort, true);
        positive("ingest-threads", ingestThreads);
        positive("generate-threads", generateThreads);
        positive("limits.ingest-window", ingestWindow);
        positive("limits.max-chunk-bytes", maxChunkBytes);
        positive("limits.max-contexts", maxContexts);
        positive("limits.max-context-tokens", maxContextTokens);
        if (attentionThreads < 0) {
            throw new IllegalArgumentException(
                    "attention-threads must be >= 0 (0 uses the processors available), got " + attentionThreads);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 lets ONNX Runtime choose), got " + threads);
        }
        if (maxChunkBytes > 4 << 20) {
            throw new IllegalArgumentException("limits.max-chunk-bytes must stay under gRPC's 4 MiB message limit, got "
                    + maxChunkBytes);
        }
    }

    /** The configuration as flat {@code key: value} lines, in the keys the YAML file uses. */
    public Map<String, String> describe() {
        Map<String, String> lines = new LinkedHashMap<>();
        lines.put("port", String.valueOf(port));
        lines.put("metrics-port", String.valueOf(metricsPort));
        lines.put("data-dir", dataDir.toAbsolutePath().toString());
        lines.put("model", model);
        lines.put("decoder", decoder.map(p -> p.toAbsolutePath().toString()).orElse(""));
        lines.put("provider", provider.name().toLowerCase(java.util.Locale.ROOT));
        lines.put("threads", String.valueOf(threads));
        lines.put("ingest-threads", String.valueOf(ingestThreads));
        lines.put("generate-threads", String.valueOf(generateThreads));
        lines.put("attention-threads", String.valueOf(attentionThreads));
        lines.put("limits.ingest-window", String.valueOf(ingestWindow));
        lines.put("limits.max-chunk-bytes", String.valueOf(maxChunkBytes));
        lines.put("limits.max-contexts", String.valueOf(maxContexts));
        lines.put("limits.max-context-tokens", String.valueOf(maxContextTokens));
        lines.put("shutdown-grace-seconds", String.valueOf(shutdownGrace.toSeconds()));
        return lines;
    }

    /** The threads tree attention searches on: {@code attention-threads}, or the processors available if 0. */
    public int attentionParallelism() {
        return attentionThreads == 0 ? Runtime.getRuntime().availableProcessors() : attentionThreads;
    }

    private static void checkPort(String key, int port, boolean mayDisable) {
        if (port < (mayDisable ? -1 : 0) || port > 65535) {
            throw new IllegalArgumentException(key + " must be between " + (mayDisable ? "-1" : "0") + " and 65535, got "
                    + port);
        }
    }

    private static void positive(String key, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(key + " must be at least 1, got " + value);
        }
    }
}
