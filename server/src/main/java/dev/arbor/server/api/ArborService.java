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
import dev.arbor.server.model.ModelInfo;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.Executor;

/** The {@code arbor.v1.Arbor} service: validates each request, then hands it to the contexts. */
public final class ArborService extends ArborGrpc.ArborImplBase {
    static final int MAX_K = 100;
    static final int DEFAULT_K = 5;
    private static final int MAX_QUESTION_CHARS = 4096;

    /** Limits and sizes the service enforces; see the server configuration. */
    public record Limits(int ingestWindow, int maxChunkBytes, long maxContextTokens) {}

    private final ContextRegistry contexts;
    private final ModelCatalog models;
    private final ArborMetrics metrics;
    private final Executor ingestExecutor;
    private final Limits limits;

    public ArborService(ContextRegistry contexts, ModelCatalog models, ArborMetrics metrics, Executor ingestExecutor,
            Limits limits) {
        this.contexts = contexts;
        this.models = models;
        this.metrics = metrics;
        this.ingestExecutor = ingestExecutor;
        this.limits = limits;
    }

    @Override
    public void createContext(CreateContextRequest request, StreamObserver<Context> responses) {
        answer(responses, () -> {
            AttentionSettings a = request.getAttention();
            AttentionConfig attention = new AttentionConfig(a.getTopK(), a.getLeafBlockSize(), a.getBeamWidth(),
                    a.getSinkTokens(), a.getLocalWindow());
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
            int k = request.getK() == 0 ? DEFAULT_K : request.getK();
            if (k < 1 || k > MAX_K) {
                throw Failures.invalid("k must be between 1 and " + MAX_K + " (0 means " + DEFAULT_K + "), got "
                        + Integer.toUnsignedString(request.getK()));
            }
            StoredContext context = find(request.getContext());
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
        try {
            if (request.getPrompt().isBlank()) {
                throw Failures.invalid("prompt is empty: give the model something to continue");
            }
            if (request.getMaxTokens() > 4096) {
                throw Failures.invalid("max_tokens must be between 1 and 4096 (0 means 128), got "
                        + Integer.toUnsignedString(request.getMaxTokens()));
            }
            StoredContext context = find(request.getContext());
            ModelInfo model = context.model().info();
            if (!model.generates()) {
                throw Status.FAILED_PRECONDITION.withDescription("context '" + request.getContext()
                        + "' uses model '" + model.name() + "', an encoder that cannot generate text; create the"
                        + " context with a decoder model (see ListModels) to use Generate").asRuntimeException();
            }
            throw Status.UNIMPLEMENTED.withDescription("generation is not available in this build").asRuntimeException();
        } catch (RuntimeException e) {
            responses.onError(Failures.toStatus(e));
        }
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
                        .setBeamWidth(a.beamWidth()).setSinkTokens(a.sinkTokens()).setLocalWindow(a.localWindow()))
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
