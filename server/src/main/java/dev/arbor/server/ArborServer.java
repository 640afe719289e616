package dev.arbor.server;

import dev.arbor.api.v1.ArborGrpc;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.server.api.ArborService;
import dev.arbor.server.api.Tenants;
import dev.arbor.server.config.ServerConfig;
import dev.arbor.server.context.ContextRegistry;
import dev.arbor.server.metrics.ArborMetrics;
import dev.arbor.server.metrics.CallMetrics;
import dev.arbor.server.metrics.MetricsEndpoint;
import dev.arbor.server.model.ContextModel;
import dev.arbor.server.model.LlamaContextModel;
import dev.arbor.server.model.MiniLmModel;
import dev.arbor.server.model.ModelCatalog;
import dev.arbor.tree.HeadWorkers;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An Arbor gRPC server: the {@code arbor.v1.Arbor} service, {@code grpc.health.v1} health, server
 * reflection and a Prometheus metrics endpoint, over the models and contexts its configuration names.
 *
 * <pre>{@code
 * try (ArborServer server = ArborServer.builder().config(config).build().start()) {
 *     server.awaitTermination();
 * }
 * }</pre>
 */
public final class ArborServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ArborServer.class);

    private final ServerConfig config;
    private final ModelCatalog models;
    private final ContextRegistry contexts;
    private final ArborMetrics metrics;
    private final ExecutorService ingestExecutor;
    private final ExecutorService generateExecutor;
    private final ExecutorService attentionExecutor;
    private final HealthStatusManager health = new HealthStatusManager();
    private final Server server;
    private MetricsEndpoint metricsEndpoint;
    private boolean stopped;

    private ArborServer(ServerConfig config, ModelCatalog models, ExecutorService attentionExecutor) {
        this.config = config;
        this.models = models;
        this.attentionExecutor = attentionExecutor;
        this.contexts = new ContextRegistry(config.dataDir(), models, config.maxContexts());
        this.metrics = new ArborMetrics(contexts);
        this.ingestExecutor = workers("arbor-ingest-", config.ingestThreads());
        this.generateExecutor = workers("arbor-generate-", config.generateThreads());
        ArborService service = new ArborService(contexts, models, metrics, ingestExecutor, generateExecutor,
                new ArborService.Limits(config.ingestWindow(), config.maxChunkBytes(), config.maxContextTokens()));
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(config.port()))
                .addService(ServerInterceptors.intercept(service, new Tenants(), new CallMetrics(metrics)))
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .addService(legacyReflection())
                .build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Binds the port and starts serving; the health service then reports SERVING. */
    public ArborServer start() {
        try {
            server.start();
            if (config.metricsPort() >= 0) {
                metricsEndpoint = new MetricsEndpoint(metrics, config.metricsPort());
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("could not start the server on port " + config.port() + ": " + e.getMessage(), e);
        }
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(ArborGrpc.SERVICE_NAME, ServingStatus.SERVING);
        log.info("arbor serving on port {} (metrics on {}), {} contexts, models {}", port(),
                metricsPort().map(String::valueOf).orElse("none"), contexts.size(), models.names());
        return this;
    }

    /** The bound gRPC port (the real one when configured with 0). */
    public int port() {
        return server.getPort();
    }

    public Optional<Integer> metricsPort() {
        return Optional.ofNullable(metricsEndpoint).map(MetricsEndpoint::port);
    }

    public ServerConfig config() {
        return config;
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /**
     * Stops accepting calls, lets in-flight calls finish for the configured grace period, then
     * cancels what is left (ingestion stops within one step, keeping what it committed) and closes
     * the stores and models.
     */
    @Override
    public synchronized void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("in-flight calls still running after {}; cancelling them", config.shutdownGrace());
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
            ingestExecutor.shutdown();
            generateExecutor.shutdown();
            ingestExecutor.awaitTermination(30, TimeUnit.SECONDS);
            generateExecutor.awaitTermination(30, TimeUnit.SECONDS);
            // Only Generate and Ingest calls hand work to it, and they have all ended.
            attentionExecutor.shutdown();
        } catch (InterruptedException e) {
            server.shutdownNow();
            ingestExecutor.shutdownNow();
            generateExecutor.shutdownNow();
            attentionExecutor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
        contexts.close();
        models.close();
        log.info("arbor stopped");
    }

    private static ExecutorService workers(String prefix, int threads) {
        AtomicInteger number = new AtomicInteger();
        return Executors.newFixedThreadPool(threads, r -> {
            Thread thread = new Thread(r, prefix + number.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    @SuppressWarnings("deprecation")
    private static io.grpc.BindableService legacyReflection() {
        // Older grpcurl and other tools still only speak v1alpha reflection.
        return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
    }

    /** Configures an {@link ArborServer}. */
    public static final class Builder {
        private ServerConfig config;

        private Builder() {}

        public Builder config(ServerConfig config) {
            this.config = config;
            return this;
        }

        /**
         * Loads the configured models (the embedded MiniLM, and the decoder if one is configured) and
         * opens the contexts in the data directory.
         */
        public ArborServer build() {
            if (config == null) {
                throw new IllegalStateException("ArborServer.builder().config(...) is required");
            }
            SessionSettings settings = SessionSettings.builder()
                    .provider(config.provider())
                    .intraOpThreads(config.threads())
                    .build();
            SessionFactory sessions = new SessionFactory(settings);
            // A search runs one worker on the calling thread (a Generate call's, or an Ingest call's prefill)
            // and the others here, with threads enough for every Generate call at once; a caller never
            // waits for a worker that has not started (HeadWorkers), so a busy pool only slows it down.
            int parallelism = config.attentionParallelism();
            ExecutorService attentionExecutor = workers("arbor-attention-",
                    Math.max(1, (parallelism - 1) * config.generateThreads()));
            try {
                HeadWorkers heads = HeadWorkers.on(attentionExecutor, parallelism);
                List<ContextModel> loaded = new ArrayList<>();
                loaded.add(MiniLmModel.open(sessions));
                config.decoder().ifPresent(checkpoint -> loaded.add(LlamaContextModel.open(checkpoint, sessions, heads)));
                ModelCatalog models = new ModelCatalog(loaded, config.model());
                return new ArborServer(config, models, attentionExecutor);
            } catch (RuntimeException e) {
                attentionExecutor.shutdown();
                throw e;
            }
        }
    }
}
