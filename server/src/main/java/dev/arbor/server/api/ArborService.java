package dev.arbor.server.api;

import dev.arbor.api.v1.ArborGrpc;
import dev.arbor.api.v1.AttentionSettings;
import dev.arbor.api.v1.Context;
import dev.arbor.api.v1.ContextState;
import dev.arbor.api.v1.CreateContextRequest;
import dev.arbor.api.v1.DeleteContextRequest;
import dev.arbor.api.v1.DeleteContextResponse;
import dev.arbor.api.v1.GenerateRequest;
import dev.arbor.api.v1.GenerateResponse;
import dev.arbor.api.v1.GetContextRequest;
import dev.arbor.api.v1.IngestRequest;
import dev.arbor.api.v1.IngestResponse;
import dev.arbor.api.v1.ListContextsRequest;
import dev.arbor.api.v1.ListContextsResponse;
import dev.arbor.api.v1.ListModelsRequest;
import dev.arbor.api.v1.ListModelsResponse;
import dev.arbor.api.v1.Model;
import dev.arbor.api.v1.ModelKind;
import dev.arbor.api.v1.RetrieveRequest;
import dev.arbor.api.v1.RetrieveResponse;
import dev.arbor.server.context.AttentionConfig;
import dev.arbor.server.context.ContextRegistry;
import dev.arbor.retrieval.Span;
import dev.arbor.server.context.StoredContext;
import dev.arbor.server.metrics.ArborMetrics;
import dev.arbor.server.model.ModelCatalog;
import dev.arbor.server.model.GenerativeIndex;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.Executor;

/** The {@code arbor.v1.Arbor} service: validates each request, then hands it to the contexts. */
public final class ArborService extends ArborGrpc.ArborImplBase {
    static final int MAX_K = 100;
    private static final int MAX_QUESTION_CHARS = 4096;
    static final int MAX_TOKENS = 4096;
    static final int DEFAULT_MAX_TOKENS = 128;
    private static final int OUTBOUND_BYTES = 4096;

    /** Limits and sizes the service enforces; see the server configuration. */
    public record Limits(int ingestWindow, int maxChunkBytes, long maxContextTokens) {}

    private final ContextRegistry contexts;
    private final ModelCatalog models;
    private final ArborMetrics metrics;
    private final Executor ingestExecutor;
    private final Executor generateExecutor;
    private final Limits limits;

    public ArborService(ContextRegistry contexts, ModelCatalog models, ArborMetrics metrics, Executor ingestExecutor,
            Executor generateExecutor, Limits limits) {
        this.contexts = contexts;
        this.models = models;
        this.metrics = metrics;
        this.ingestExecutor = ingestExecutor;
        this.generateExecutor = generateExecutor;
        this.limits = limits;
    }

    @Override
    public void createContext(CreateContextRequest request, StreamObserver<Context> responses) {
        answer(responses, () -> {
            AttentionSettings a = request.getAttention();
            AttentionConfig attention = new AttentionConfig(a.getTopK(), a.getLeafBlockSize(), a.getBeamWidth(),
                    a.getSinkTokens(), a.getLocalWindow(), a.getExactSearch());
            return describe(contexts.create(Tenants.current(), request.getName(), request.getModel(), attention));
        });
    }

    @Override
    public void getContext(GetContextRequest request, StreamObserver<Context> responses) {
        answer(responses, () -> describe(find(request.getName())));
    }

    @Override
    public void listContexts(ListContextsRequest request, StreamObserver<ListContextsResponse> responses) {
        answer(responses, () -> ListContextsResponse.newBuilder()
                .addAllContexts(contexts.list(Tenants.current()).stream().map(ArborService::describe).toList())
                .build());
    }

    @Override
    public void deleteContext(DeleteContextRequest request, StreamObserver<DeleteContextResponse> responses) {
        answer(responses, () -> {
            long freed = contexts.delete(Tenants.current(), request.getName())
                    .orElseThrow(() -> Failures.contextNotFound(request.getName()));
            return DeleteContextResponse.newBuilder().setBytesFreed(freed).build();
        });
    }

    @Override
    public StreamObserver<IngestRequest> ingest(StreamObserver<IngestResponse> responses) {
        return new IngestCall(responses, contexts, metrics, ingestExecutor, Tenants.current(),
                limits.ingestWindow(), limits.maxChunkBytes(), limits.maxContextTokens());
    }

    @Override
    public void retrieve(RetrieveRequest request, StreamObserver<RetrieveResponse> responses) {
        try {
            if (request.getQuestion().isBlank()) {
                throw Failures.invalid("question is empty: ask something about the context");
            }
            if (request.getQuestion().length() > MAX_QUESTION_CHARS) {
                throw Failures.invalid("question has " + request.getQuestion().length() + " characters; the limit is "
                        + MAX_QUESTION_CHARS);
            }
            if (request.getK() < 0 || request.getK() > MAX_K) {
                throw Failures.invalid("k must be between 1 and " + MAX_K + " (0 means the context's attention.top_k),"
                        + " got " + Integer.toUnsignedString(request.getK()));
            }
            StoredContext context = find(request.getContext());
            if (context.model().info().generates()) {
                throw Status.FAILED_PRECONDITION.withDescription("context '" + request.getContext() + "' uses model '"
                        + context.model().info().name() + "', a decoder; Retrieve needs a context created with an"
                        + " encoder model (see ListModels)").asRuntimeException();
            }
            int k = request.getK() == 0 ? context.descriptor().attention().topK() : request.getK();
            List<Span> spans = context.retrieve(request.getQuestion(), k);
            if (io.grpc.Context.current().isCancelled()) {
                return;
            }
            for (int rank = 0; rank < spans.size(); rank++) {
                Span s = spans.get(rank);
                responses.onNext(RetrieveResponse.newBuilder().setRank(rank + 1).setSpan(dev.arbor.api.v1.Span.newBuilder()
                        .setText(s.text()).setStart(s.start()).setEnd(s.end()).setScore((float) s.score())).build());
            }
            responses.onCompleted();
        } catch (RuntimeException e) {
            responses.onError(Failures.toStatus(e));
        }
    }

    @Override
    public void generate(GenerateRequest request, StreamObserver<GenerateResponse> responses) {
        ServerCallStreamObserver<GenerateResponse> stream = (ServerCallStreamObserver<GenerateResponse>) responses;
        GenerativeIndex index;
        int maxTokens;
        try {
            if (request.getPrompt().isBlank()) {
                throw Failures.invalid("prompt is empty: give the model something to continue");
            }
            maxTokens = request.getMaxTokens() == 0 ? DEFAULT_MAX_TOKENS : request.getMaxTokens();
            if (maxTokens < 1 || maxTokens > MAX_TOKENS) {
                throw Failures.invalid("max_tokens must be between 1 and " + MAX_TOKENS + " (0 means "
                        + DEFAULT_MAX_TOKENS + "), got " + Integer.toUnsignedString(request.getMaxTokens()));
            }
            if (!(request.getTemperature() >= 0 && request.getTemperature() <= 10)) {
                throw Failures.invalid("temperature must be between 0 and 10, got " + request.getTemperature());
            }
            StoredContext context = find(request.getContext());
            if (!(context.index() instanceof GenerativeIndex generative)) {
                throw Status.FAILED_PRECONDITION.withDescription("context '" + request.getContext()
                        + "' uses model '" + context.model().info().name() + "', an encoder that cannot generate"
                        + " text; create the context with a decoder model (see ListModels) to use Generate")
                        .asRuntimeException();
            }
            index = generative;
        } catch (RuntimeException e) {
            responses.onError(Failures.toStatus(e));
            return;
        }
        // Keep little in the transport: a token message is small, and a slow reader should hold back
        // generation after a few of them rather than after 32 KiB.
        stream.setOnReadyThreshold(OUTBOUND_BYTES);
        ReadyGate gate = new ReadyGate(stream);
        generateExecutor.execute(() -> {
            try {
                index.generate(request.getPrompt(), maxTokens, request.getTemperature(), request.getSeed(), token -> {
                    if (!gate.awaitReady()) {
                        return false;
                    }
                    GenerateResponse.Builder message = GenerateResponse.newBuilder()
                            .setTokenId(token.id()).setText(token.text()).setIndex(token.index());
                    for (int position : token.attended()) {
                        message.addAttended(position);
                    }
                    stream.onNext(message.build());
                    metrics.tokensGenerated(1);
                    return true;
                });
                if (!gate.cancelled()) {
                    stream.onCompleted();
                }
            } catch (RuntimeException e) {
                if (!gate.cancelled()) {
                    stream.onError(Failures.toStatus(e));
                }
            }
        });
    }

    @Override
    public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> responses) {
        answer(responses, () -> ListModelsResponse.newBuilder().addAllModels(models.models().stream()
                .map(m -> Model.newBuilder()
                        .setName(m.name())
                        .setKind(m.generates() ? ModelKind.MODEL_KIND_DECODER : ModelKind.MODEL_KIND_ENCODER)
                        .setVocabularySize(m.vocabularySize())
                        .setDimension(m.dimension())
                        .setIsDefault(m.name().equals(models.defaultModel()))
                        .setDescription(m.description())
                        .build())
                .toList()).build());
    }

    private StoredContext find(String name) {
        return contexts.find(Tenants.current(), name).orElseThrow(() -> Failures.contextNotFound(name));
    }

    private static Context describe(StoredContext context) {
        AttentionConfig a = context.descriptor().attention();
        return Context.newBuilder()
                .setName(context.descriptor().name())
                .setModel(context.descriptor().model())
                .setAttention(AttentionSettings.newBuilder().setTopK(a.topK()).setLeafBlockSize(a.leafBlockSize())
                        .setBeamWidth(a.beamWidth()).setSinkTokens(a.sinkTokens()).setLocalWindow(a.localWindow())
                        .setExactSearch(a.exactSearch()))
                .setState(switch (context.state()) {
                    case EMPTY -> ContextState.CONTEXT_STATE_EMPTY;
                    case INGESTING -> ContextState.CONTEXT_STATE_INGESTING;
                    case READY -> ContextState.CONTEXT_STATE_READY;
                })
                .setSizeTokens(context.tokens())
                .setSizeChars(context.chars())
                .setBytesOnDisk(context.bytesOnDisk())
                .setCreatedUnixMillis(context.descriptor().createdUnixMillis())
                .build();
    }

    private interface Answer<T> {
        T get();
    }

    private static <T> void answer(StreamObserver<T> responses, Answer<T> answer) {
        T value;
        try {
            value = answer.get();
        } catch (RuntimeException e) {
            responses.onError(Failures.toStatus(e));
            return;
        }
        responses.onNext(value);
        responses.onCompleted();
    }
}
