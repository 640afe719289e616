package dev.arbor.server.metrics;

import dev.arbor.server.context.ContextRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/** The server's meters, exposed in Prometheus text format. */
public final class ArborMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter ingestedTokens;
    private final Counter generatedTokens;

    public ArborMetrics(ContextRegistry contexts) {
        ingestedTokens = Counter.builder("arbor.ingested.tokens")
                .description("Tokens committed to context stores by Ingest").register(registry);
        generatedTokens = Counter.builder("arbor.generated.tokens")
                .description("Tokens streamed to clients by Generate").register(registry);
        Gauge.builder("arbor.contexts", contexts, ContextRegistry::size)
                .description("Contexts held by this server").register(registry);
        Gauge.builder("arbor.store.bytes", contexts, ContextRegistry::bytesOnDisk)
                .description("Bytes of context stores on disk").baseUnit("bytes").register(registry);
    }

    public void tokensIngested(long tokens) {
        ingestedTokens.increment(tokens);
    }

    public void tokensGenerated(long tokens) {
        generatedTokens.increment(tokens);
    }

    /** Records one finished call of {@code method} with its outcome. */
    public void callFinished(String method, String status, Duration elapsed) {
        Timer.builder("arbor.rpc.latency")
                .description("Time from the start of an RPC to its close")
                .tags("method", method, "status", status)
                .publishPercentileHistogram()
                .register(registry)
                .record(elapsed);
    }

    /** All meters in the Prometheus text exposition format. */
    public String scrape() {
        return registry.scrape();
    }
}
