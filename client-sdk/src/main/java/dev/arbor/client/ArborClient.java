package dev.arbor.client;

import dev.arbor.api.v1.ArborGrpc;
import dev.arbor.api.v1.Context;
import dev.arbor.api.v1.CreateContextRequest;
import dev.arbor.api.v1.DeleteContextRequest;
import dev.arbor.api.v1.GenerateRequest;
import dev.arbor.api.v1.GenerateResponse;
import dev.arbor.api.v1.GetContextRequest;
import dev.arbor.api.v1.ListContextsRequest;
import dev.arbor.api.v1.ListModelsRequest;
import dev.arbor.api.v1.Model;
import dev.arbor.api.v1.RetrieveRequest;
import dev.arbor.api.v1.RetrieveResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A client of an Arbor server, blocking ({@code retrieve}) and asynchronous ({@code retrieveAsync}).
 * Failures surface as {@link ArborException} subclasses carrying the gRPC status. Retries of
 * UNAVAILABLE calls are configured through the gRPC service config, so they follow gRPC's rules
 * (only before a response arrived, with exponential backoff).
 *
 * <pre>{@code
 * try (ArborClient client = ArborClient.builder().target("localhost:50051").build()) {
 *     client.createContext("book");
 *     client.ingest("book", Path.of("book.txt"), p -> System.out.println(p.tokensCommitted()));
 *     client.retrieve("book", "Who wrote the letter?", 3).forEach(System.out::println);
 * }
 * }</pre>
 */
public final class ArborClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final boolean ownsChannel;
    private final ArborGrpc.ArborBlockingStub blocking;
    private final ArborGrpc.ArborStub async;
    private final Duration deadline;
    private final int chunkBytes;

    private ArborClient(Builder builder) {
        this.ownsChannel = builder.channel == null;
        this.channel = ownsChannel
                ? ManagedChannelBuilder.forTarget(builder.target)
                        .usePlaintext()
                        .defaultServiceConfig(serviceConfig(builder.maxAttempts))
                        .maxInboundMessageSize(8 << 20)
                        .build()
                : builder.channel;
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("arbor-tenant", Metadata.ASCII_STRING_MARSHALLER), builder.tenant);
        var tenant = MetadataUtils.newAttachHeadersInterceptor(headers);
        this.blocking = ArborGrpc.newBlockingStub(channel).withInterceptors(tenant);
        this.async = ArborGrpc.newStub(channel).withInterceptors(tenant);
        this.deadline = builder.deadline;
        this.chunkBytes = builder.chunkBytes;
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---- contexts ----

    public Context createContext(String name) {
        return createContext(CreateContextRequest.newBuilder().setName(name).build());
    }

    public Context createContext(CreateContextRequest request) {
        return call(() -> unary().createContext(request));
    }

    public Context getContext(String name) {
        return call(() -> unary().getContext(GetContextRequest.newBuilder().setName(name).build()));
    }

    public List<Context> listContexts() {
        return call(() -> unary().listContexts(ListContextsRequest.getDefaultInstance()).getContextsList());
    }

    /** Deletes a context; returns the bytes it freed on disk. */
    public long deleteContext(String name) {
        return call(() -> unary().deleteContext(DeleteContextRequest.newBuilder().setName(name).build()).getBytesFreed());
    }

    public List<Model> listModels() {
        return call(() -> unary().listModels(ListModelsRequest.getDefaultInstance()).getModelsList());
    }

    // ---- ingest ----

    /** Ingests a UTF-8 text file, blocking until the server committed all of it. */
    public IngestProgress ingest(String context, Path file, ProgressListener listener) {
        try (InputStream in = Files.newInputStream(file)) {
            return await(startIngest(context, in, Files.size(file), listener));
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + file, e);
        }
    }

    /** Ingests UTF-8 text from a stream, blocking until the server committed all of it. */
    public IngestProgress ingest(String context, InputStream text, ProgressListener listener) {
        return await(startIngest(context, text, -1, listener));
    }

    public IngestProgress ingest(String context, String text) {
        return ingest(context, new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), ProgressListener.NONE);
    }

    /**
     * Starts ingesting a stream; the future completes with the final count. The stream is read on
     * gRPC threads as the server asks for more, and must stay open until the future completes.
     * Cancelling the future does not stop the call; close the client or use a deadline for that.
     */
    public CompletableFuture<IngestProgress> ingestAsync(String context, InputStream text, ProgressListener listener) {
        return startIngest(context, text, -1, listener);
    }

    private CompletableFuture<IngestProgress> startIngest(String context, InputStream in, long size,
            ProgressListener listener) {
        IngestStream stream = new IngestStream(context, in, size, chunkBytes, listener);
        async.ingest(stream);
        return stream.result();
    }

    // ---- retrieve ----

    /** The {@code k} spans that best answer {@code question}, best first. */
    public List<RetrievedSpan> retrieve(String context, String question, int k) {
        List<RetrievedSpan> spans = new ArrayList<>();
        retrieve(context, question, k, spans::add);
        return spans;
    }

    /** Streams the spans that best answer {@code question} to {@code onSpan}, best first, as they arrive. */
    public void retrieve(String context, String question, int k, Consumer<RetrievedSpan> onSpan) {
        call(() -> {
            Iterator<RetrieveResponse> responses = unary().retrieve(retrieveRequest(context, question, k));
            responses.forEachRemaining(r -> onSpan.accept(span(r)));
            return null;
        });
    }

    public CompletableFuture<List<RetrievedSpan>> retrieveAsync(String context, String question, int k) {
        List<RetrievedSpan> spans = new ArrayList<>();
        CompletableFuture<List<RetrievedSpan>> result = new CompletableFuture<>();
        async.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .retrieve(retrieveRequest(context, question, k), new StreamObserver<>() {
                    @Override
                    public void onNext(RetrieveResponse value) {
                        spans.add(span(value));
                    }

                    @Override
                    public void onError(Throwable t) {
                        result.completeExceptionally(ArborException.from(t));
                    }

                    @Override
                    public void onCompleted() {
                        result.complete(List.copyOf(spans));
                    }
                });
        return result;
    }

    // ---- generate ----

    /** Generates from {@code prompt}, passing each token to {@code onToken} as it streams in. */
    public void generate(String context, String prompt, int maxTokens, Consumer<GeneratedToken> onToken) {
        call(() -> {
            Iterator<GenerateResponse> tokens = blocking.generate(GenerateRequest.newBuilder()
                    .setContext(context).setPrompt(prompt).setMaxTokens(maxTokens).build());
            tokens.forEachRemaining(t -> onToken.accept(token(t)));
            return null;
        });
    }

    @Override
    public void close() {
        if (ownsChannel) {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private ArborGrpc.ArborBlockingStub unary() {
        return blocking.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static RetrieveRequest retrieveRequest(String context, String question, int k) {
        return RetrieveRequest.newBuilder().setContext(context).setQuestion(question).setK(k).build();
    }

    private static RetrievedSpan span(RetrieveResponse r) {
        return new RetrievedSpan(r.getSpan().getText(), r.getSpan().getStart(), r.getSpan().getEnd(),
                r.getSpan().getScore());
    }

    private static GeneratedToken token(GenerateResponse t) {
        return new GeneratedToken(t.getIndex(), t.getTokenId(), t.getText(),
                List.copyOf(t.getAttendedList()));
    }

    private interface Call<T> {
        T run();
    }

    private static <T> T call(Call<T> call) {
        try {
            return call.run();
        } catch (StatusRuntimeException e) {
            throw ArborException.from(e);
        }
    }

    private static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw ArborException.from(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the server", e);
        }
    }

    /** Retries UNAVAILABLE (server restarting, connection lost) with exponential backoff. */
    private static Map<String, ?> serviceConfig(int maxAttempts) {
        if (maxAttempts == 1) {
            return Map.of("methodConfig", List.of(Map.of("name", List.of(Map.of("service", "arbor.v1.Arbor")))));
        }
        Map<String, Object> retry = Map.of(
                "maxAttempts", (double) maxAttempts,
                "initialBackoff", "0.2s",
                "maxBackoff", "5s",
                "backoffMultiplier", 2.0,
                "retryableStatusCodes", List.of("UNAVAILABLE"));
        return Map.of("methodConfig", List.of(Map.of(
                "name", List.of(Map.of("service", "arbor.v1.Arbor")),
                "retryPolicy", retry)));
    }

    /** Configures an {@link ArborClient}. */
    public static final class Builder {
        private String target = "localhost:50051";
        private ManagedChannel channel;
        private Duration deadline = Duration.ofSeconds(60);
        private int maxAttempts = 4;
        private String tenant = "default";
        private int chunkBytes = 64 * 1024;

        private Builder() {}

        /** {@code host:port} or any gRPC target URI; default {@code localhost:50051}. */
        public Builder target(String target) {
            this.target = target;
            return this;
        }

        /** Uses a channel the caller owns (and closes) instead of opening one to {@link #target}. */
        public Builder channel(ManagedChannel channel) {
            this.channel = channel;
            return this;
        }

        /** Deadline of each unary and Retrieve call; Ingest and Generate run until done. */
        public Builder deadline(Duration deadline) {
            this.deadline = deadline;
            return this;
        }

        /** Attempts per call when the server is UNAVAILABLE, first try included (1 disables retries). */
        public Builder maxAttempts(int attempts) {
            if (attempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1, got " + attempts);
            }
            this.maxAttempts = attempts;
            return this;
        }

        /** Sent as the {@code arbor-tenant} header; contexts are private to their tenant. */
        public Builder tenant(String tenant) {
            this.tenant = tenant;
            return this;
        }

        /** Bytes of text per Ingest message; default 64 KiB. */
        public Builder chunkBytes(int bytes) {
            if (bytes < 1 || bytes > 1 << 20) {
                throw new IllegalArgumentException("chunkBytes must be between 1 and 1 MiB, got " + bytes);
            }
            this.chunkBytes = bytes;
            return this;
        }

        public ArborClient build() {
            return new ArborClient(this);
        }
    }
}
