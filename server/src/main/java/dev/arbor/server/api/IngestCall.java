package dev.arbor.server.api;

import dev.arbor.api.v1.IngestRequest;
import dev.arbor.api.v1.IngestResponse;
import dev.arbor.server.context.ContextRegistry;
import dev.arbor.server.context.ContextWriter;
import dev.arbor.server.context.StoredContext;
import dev.arbor.server.metrics.ArborMetrics;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Ingest stream. Requests are queued and processed one at a time on the ingestion executor.
 * Inbound flow control is manual: the call asks gRPC for {@code window} messages up front and for
 * one more each time it has processed one, so at most {@code window} chunks wait in memory however
 * fast the client sends; the client's transport blocks (or its {@code isReady()} turns false) until
 * the model catches up.
 */
final class IngestCall implements StreamObserver<IngestRequest> {
    private static final Logger log = LoggerFactory.getLogger(IngestCall.class);
    /** Marks the client's half-close in the queue. */
    private static final IngestRequest END = IngestRequest.getDefaultInstance();

    private final ServerCallStreamObserver<IngestResponse> responses;
    private final ContextRegistry contexts;
    private final ArborMetrics metrics;
    private final Executor executor;
    private final String tenant;
    private final int maxChunkBytes;
    private final long maxContextTokens;

    private final Queue<IngestRequest> queue = new ArrayDeque<>();
    private boolean draining;
    private volatile boolean cancelled;
    private boolean finished;

    private StoredContext context;
    private ContextWriter writer;
    private final Utf8ChunkDecoder utf8 = new Utf8ChunkDecoder();
    private long bytesReceived;

    IngestCall(StreamObserver<IngestResponse> responses, ContextRegistry contexts, ArborMetrics metrics,
            Executor executor, String tenant, int window, int maxChunkBytes, long maxContextTokens) {
        this.responses = (ServerCallStreamObserver<IngestResponse>) responses;
        this.contexts = contexts;
        this.metrics = metrics;
        this.executor = executor;
        this.tenant = tenant;
        this.maxChunkBytes = maxChunkBytes;
        this.maxContextTokens = maxContextTokens;
        this.responses.disableAutoRequest();
        this.responses.setOnCancelHandler(() -> {
            cancelled = true;
            schedule();
        });
        this.responses.request(window);
    }

    @Override
    public void onNext(IngestRequest request) {
        enqueue(request);
    }

    @Override
    public void onError(Throwable t) {
        cancelled = true;
        schedule();
    }

    @Override
    public void onCompleted() {
        enqueue(END);
    }

    private void enqueue(IngestRequest request) {
        synchronized (queue) {
            queue.add(request);
        }
        schedule();
    }

    private void schedule() {
        synchronized (queue) {
            if (draining || finished) {
                return;
            }
            draining = true;
        }
        executor.execute(this::drain);
    }

    private void drain() {
        while (true) {
            IngestRequest next;
            synchronized (queue) {
                next = cancelled || finished ? null : queue.poll();
                if (next == null) {
                    draining = false;
                    if (cancelled && !finished) {
                        finished = true;
                        release("cancelled by the client");
                    }
                    return;
                }
            }
            try {
                process(next);
                if (!finished) {
                    responses.request(1);
                }
            } catch (RuntimeException e) {
                fail(Failures.toStatus(e).getStatus());
            }
        }
    }

    private void process(IngestRequest request) {
        if (request == END) {
            finish();
            return;
        }
        if (context == null) {
            open(request);
            return;
        }
        if (context.tokens() >= maxContextTokens) {
            throw Status.RESOURCE_EXHAUSTED.withDescription("context '" + context.descriptor().name() + "' holds "
                    + context.tokens() + " tokens, the limit is " + maxContextTokens
                    + " (limits.max-context-tokens)").asRuntimeException();
        }
        long before = writer.tokensCommitted();
        switch (request.getKindCase()) {
            case TEXT -> {
                checkChunkSize(request.getText().size());
                bytesReceived += request.getText().size();
                writer.appendText(utf8.decode(request.getText().asReadOnlyByteBuffer()));
            }
            case TOKENS -> {
                checkChunkSize(request.getTokens().getIdsCount() * 4);
                bytesReceived += request.getTokens().getIdsCount() * 4L;
                writer.appendTokens(request.getTokens().getIdsList().stream().mapToLong(Integer::toUnsignedLong).toArray());
            }
            case OPEN -> throw Failures.invalid("the stream is already open on context '"
                    + context.descriptor().name() + "'; send 'open' only as the first message");
            case KIND_NOT_SET -> throw Failures.invalid("empty IngestRequest: set 'text' or 'tokens'");
        }
        metrics.tokensIngested(writer.tokensCommitted() - before);
    }

    /** After each step. Progress is advisory: skipped while the client is not reading, so it cannot pile up. */
    private void reportProgress() {
        if (responses.isReady()) {
            responses.onNext(progress(false));
        }
    }

    private void open(IngestRequest request) {
        if (!request.hasOpen()) {
            throw Failures.invalid("the first IngestRequest must be 'open' naming the context");
        }
        String name = request.getOpen().getContext();
        StoredContext found = contexts.find(tenant, name).orElseThrow(() -> Failures.contextNotFound(name));
        if (!found.tryBeginIngest()) {
            throw Status.FAILED_PRECONDITION.withDescription("context '" + name
                    + "' is already being ingested by another call; wait for it to finish").asRuntimeException();
        }
        context = found;
        writer = new ContextWriter(found, () -> cancelled, this::reportProgress);
        log.info("ingest started tenant={} context={} tokens={}", tenant, name, found.tokens());
    }

    private void finish() {
        if (context == null) {
            throw Failures.invalid("the stream ended before its 'open' message");
        }
        utf8.finish();
        long before = writer.tokensCommitted();
        writer.finish();
        metrics.tokensIngested(writer.tokensCommitted() - before);
        IngestResponse done = progress(true);
        synchronized (queue) {
            finished = true;
        }
        // Released before the client hears 'done', so a GetContext it sends next already sees READY.
        release("completed");
        responses.onNext(done);
        responses.onCompleted();
    }

    private void fail(Status status) {
        synchronized (queue) {
            if (finished) {
                return;
            }
            finished = true;
        }
        release(status.getCode() + ": " + status.getDescription());
        if (!cancelled) {
            responses.onError(status.asRuntimeException());
        }
    }

    private void release(String outcome) {
        if (context != null) {
            context.endIngest();
            log.info("ingest {} tenant={} context={} committed={} contextTokens={}", outcome, tenant,
                    context.descriptor().name(), writer.tokensCommitted(), context.tokens());
        }
    }

    private void checkChunkSize(int bytes) {
        if (bytes > maxChunkBytes) {
            throw Failures.invalid("chunk of " + bytes + " bytes exceeds the server's limit of " + maxChunkBytes
                    + " bytes per IngestRequest; send smaller chunks");
        }
    }

    private IngestResponse progress(boolean done) {
        return IngestResponse.newBuilder()
                .setTokensCommitted(writer.tokensCommitted())
                .setContextTokens(context.tokens())
                .setBytesReceived(bytesReceived)
                .setDone(done)
                .build();
    }
}
