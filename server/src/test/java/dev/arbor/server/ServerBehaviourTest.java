package dev.arbor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.arbor.api.v1.ArborGrpc;
import dev.arbor.api.v1.AttentionSettings;
import dev.arbor.api.v1.ContextState;
import dev.arbor.api.v1.CreateContextRequest;
import dev.arbor.api.v1.GenerateRequest;
import dev.arbor.api.v1.IngestOpen;
import dev.arbor.api.v1.IngestRequest;
import dev.arbor.api.v1.IngestResponse;
import dev.arbor.api.v1.TokenIds;
import dev.arbor.client.ArborClient;
import dev.arbor.client.ArborException;
import dev.arbor.testing.SharedData;
import dev.arbor.tree.TreeSettings;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Everything but the needle search, against one server over real Netty on loopback. */
class ServerBehaviourTest {
    @TempDir static Path dataDir;
    static ArborServer server;
    static ManagedChannel channel;
    static ArborClient client;

    @BeforeAll
    static void start() {
        server = TestServers.start(dataDir);
        channel = ManagedChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
        client = ArborClient.builder().channel(channel).deadline(Duration.ofSeconds(60)).build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        client.close();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }

    @Test
    void healthServiceReportsServing() {
        HealthCheckResponse overall = HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());
        HealthCheckResponse arbor = HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.newBuilder().setService("arbor.v1.Arbor").build());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, overall.getStatus());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, arbor.getStatus());
    }

    @Test
    void reflectionListsTheArborService() throws Exception {
        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse value) {
                        answer.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        List<String> services = answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
                .map(s -> s.getName()).toList();
        requests.onCompleted();
        assertTrue(services.contains("arbor.v1.Arbor"), services.toString());
        assertTrue(services.contains("grpc.health.v1.Health"), services.toString());
    }

    @Test
    void contextsAreCreatedListedDescribedAndDeleted() {
        client.createContext("lifecycle");
        String text = "The quick brown fox jumps over the lazy dog. It was a sunny day.";
        client.ingest("lifecycle", text);
        var described = client.getContext("lifecycle");
        assertEquals(ContextState.CONTEXT_STATE_READY, described.getState());
        assertTrue(described.getSizeTokens() > 10);
        assertEquals(text.length(), described.getSizeChars());
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, described.getBytesOnDisk(), "the text log");
        assertTrue(client.listContexts().stream().anyMatch(c -> c.getName().equals("lifecycle")));
        assertTrue(client.deleteContext("lifecycle") > 0);
        assertThrows(ArborException.NotFoundException.class, () -> client.getContext("lifecycle"));
    }

    @Test
    void anotherTenantCannotSeeTheContext() {
        client.createContext("private");
        try (ArborClient other = ArborClient.builder().channel(channel).tenant("someone-else").build()) {
            assertThrows(ArborException.NotFoundException.class, () -> other.getContext("private"));
            assertTrue(other.listContexts().isEmpty());
        }
    }

    @Test
    void unknownContextIsNotFound() {
        assertCode(Status.Code.NOT_FOUND, "does not exist", () -> client.retrieve("no-such-context", "hello?", 3));
        assertCode(Status.Code.NOT_FOUND, "does not exist", () -> client.ingest("no-such-context", "Some text."));
        assertCode(Status.Code.NOT_FOUND, "does not exist", () -> client.deleteContext("no-such-context"));
    }

    @Test
    void emptyQuestionAndKOutOfRangeAreInvalid() {
        client.createContext("questions");
        assertCode(Status.Code.INVALID_ARGUMENT, "question is empty", () -> client.retrieve("questions", "  ", 3));
        assertCode(Status.Code.INVALID_ARGUMENT, "k must be between 1 and 100",
                () -> client.retrieve("questions", "what?", 101));
        assertCode(Status.Code.INVALID_ARGUMENT, "k must be between 1 and 100",
                () -> client.retrieve("questions", "what?", -1));
    }

    @Test
    void encoderContextsReportTheirEffectiveAttentionDefaults() {
        AttentionSettings defaults = client.createContext("defaults").getAttention();
        assertEquals(5, defaults.getTopK(), "spans per Retrieve");
        assertEquals(TreeSettings.defaults().leafCapacity(), defaults.getLeafBlockSize());
        assertEquals(128, defaults.getBeamWidth());
        assertEquals(0, defaults.getSinkTokens(), "sinks are a decoder notion");
        assertFalse(defaults.getExactSearch());
    }

    @Test
    void attentionSettingsOfACreatedContextAreAppliedAndReported() {
        AttentionSettings asked = AttentionSettings.newBuilder()
                .setTopK(3).setLeafBlockSize(16).setBeamWidth(8).setExactSearch(true).build();
        client.createContext(CreateContextRequest.newBuilder().setName("tuned").setAttention(asked).build());
        assertEquals(asked, client.getContext("tuned").getAttention());
        client.ingest("tuned", "Bees make honey in summer. The river froze in January. Owls hunt at night. "
                + "The baker opens at six. Snow covered the hills. The ferry leaves at noon. Foxes sleep by day.");
        assertEquals(3, client.retrieve("tuned", "When does the ferry leave?", 0).size(), "k 0 takes the context's top_k");
        assertEquals(1, client.retrieve("tuned", "When does the ferry leave?", 1).size());
    }

    @Test
    void attentionSettingsTheModelCannotUseAreInvalid() {
        assertCode(Status.Code.INVALID_ARGUMENT, "apply to decoder contexts", () -> client.createContext(
                CreateContextRequest.newBuilder().setName("sinks").setAttention(
                        AttentionSettings.newBuilder().setSinkTokens(4)).build()));
        assertCode(Status.Code.INVALID_ARGUMENT, "leaf_block_size must be 0 (the default) or between 8 and 4096",
                () -> client.createContext(CreateContextRequest.newBuilder().setName("tiny-leaves").setAttention(
                        AttentionSettings.newBuilder().setLeafBlockSize(2)).build()));
        assertCode(Status.Code.INVALID_ARGUMENT, "at most 100", () -> client.createContext(
                CreateContextRequest.newBuilder().setName("many").setAttention(
                        AttentionSettings.newBuilder().setTopK(101)).build()));
        assertCode(Status.Code.INVALID_ARGUMENT, "beam_width must be between 0 and 65536, got 4294967295",
                () -> client.createContext(CreateContextRequest.newBuilder().setName("negative").setAttention(
                        AttentionSettings.newBuilder().setBeamWidth(-1)).build()));
        assertThrows(ArborException.NotFoundException.class, () -> client.getContext("sinks"), "nothing was created");
    }

    @Test
    void unknownModelIsInvalid() {
        assertCode(Status.Code.INVALID_ARGUMENT, "unknown model 'gpt-17'", () -> client.createContext(
                CreateContextRequest.newBuilder().setName("m").setModel("gpt-17").build()));
        assertCode(Status.Code.INVALID_ARGUMENT, "is not valid", () -> client.createContext("../escape"));
        client.createContext("twice");
        assertCode(Status.Code.ALREADY_EXISTS, "already exists", () -> client.createContext("twice"));
    }

    @Test
    void textThatIsNotUtf8IsInvalidAndNamesTheOffset() throws Exception {
        client.createContext("latin1");
        byte[] latin1 = "Caf\u00e9 au lait.".getBytes(StandardCharsets.ISO_8859_1);
        StatusRuntimeException e = ingestRaw("latin1", List.of(
                IngestRequest.newBuilder().setText(ByteString.copyFrom(latin1)).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("not valid UTF-8") 
                && e.getStatus().getDescription().contains("byte offset 3"), e.getStatus().getDescription());
    }

    @Test
    void aCharacterSplitAcrossChunksIsFine() throws Exception {
        client.createContext("split");
        byte[] bytes = "Na\u00efve caf\u00e9s serve cr\u00e8me br\u00fbl\u00e9e. ".getBytes(StandardCharsets.UTF_8);
        List<IngestRequest> chunks = new java.util.ArrayList<>();
        for (int i = 0; i < bytes.length; i += 3) {
            chunks.add(IngestRequest.newBuilder()
                    .setText(ByteString.copyFrom(bytes, i, Math.min(3, bytes.length - i))).build());
        }
        assertEquals(null, ingestRaw("split", chunks));
        assertEquals(new String(bytes, StandardCharsets.UTF_8).length(), client.getContext("split").getSizeChars());
    }

    @Test
    void tokenIdOutsideTheVocabularyIsInvalid() throws Exception {
        client.createContext("tokens");
        StatusRuntimeException e = ingestRaw("tokens", List.of(IngestRequest.newBuilder()
                .setTokens(TokenIds.newBuilder().addIds(2023).addIds(30522)).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("token id 30522"), e.getStatus().getDescription());
        assertEquals(0, client.getContext("tokens").getSizeTokens(), "nothing of a rejected chunk is committed");

        assertEquals(null, ingestRaw("tokens", List.of(IngestRequest.newBuilder()
                .setTokens(TokenIds.newBuilder().addIds(2023).addIds(2003).addIds(1037).addIds(3231)).build())));
        assertEquals(4, client.getContext("tokens").getSizeTokens());
    }

    @Test
    void generateOnAnEncoderContextFailsThePrecondition() {
        client.createContext("encoder-only");
        assertCode(Status.Code.FAILED_PRECONDITION, "cannot generate",
                () -> client.generate("encoder-only", "Once upon a time", 5, t -> {}));
        assertCode(Status.Code.INVALID_ARGUMENT, "prompt is empty", () -> ArborGrpc.newBlockingStub(channel)
                .generate(GenerateRequest.newBuilder().setContext("encoder-only").build()).hasNext());
    }

    @Test
    void cancellingMidIngestStopsTheWorkAndLeavesTheContextUsable() throws Exception {
        client.createContext("cancelled");
        String book = Files.readString(SharedData.book("don-quixote.txt")).substring(0, 400_000);
        AtomicInteger progressSeen = new AtomicInteger();
        CountDownLatch firstProgress = new CountDownLatch(1);
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        ArborGrpc.newStub(channel).ingest(new ClientResponseObserver<IngestRequest, IngestResponse>() {
            ClientCallStreamObserver<IngestRequest> requests;
            int offset;

            @Override
            public void beforeStart(ClientCallStreamObserver<IngestRequest> requests) {
                this.requests = requests;
                requests.setOnReadyHandler(() -> {
                    synchronized (this) {
                        if (offset == 0) {
                            requests.onNext(IngestRequest.newBuilder()
                                    .setOpen(IngestOpen.newBuilder().setContext("cancelled")).build());
                        }
                        while (requests.isReady() && offset < book.length()) {
                            String chunk = book.substring(offset, Math.min(book.length(), offset + 8192));
                            offset += chunk.length();
                            requests.onNext(IngestRequest.newBuilder().setText(ByteString.copyFromUtf8(chunk)).build());
                        }
                    }
                });
            }

            @Override
            public void onNext(IngestResponse value) {
                progressSeen.incrementAndGet();
                firstProgress.countDown();
            }

            @Override
            public void onError(Throwable t) {
                ended.complete(t);
            }

            @Override
            public void onCompleted() {
                ended.complete(null);
            }

            {
                new Thread(() -> {
                    try {
                        firstProgress.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    requests.cancel("test cancels mid-ingest", null);
                }).start();
            }
        });
        assertInstanceOf(StatusRuntimeException.class, ended.get(60, TimeUnit.SECONDS));

        // The server drops the ingestion within one step; the context is then free again.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (client.getContext("cancelled").getState() == ContextState.CONTEXT_STATE_INGESTING
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        var afterCancel = client.getContext("cancelled");
        assertTrue(afterCancel.getState() != ContextState.CONTEXT_STATE_INGESTING, "ingestion still running");
        assertTrue(afterCancel.getSizeChars() < book.length(), "cancelled before the end of the book");

        // Consistent and healthy: more text goes in after what was committed, and queries answer.
        var more = client.ingest("cancelled", "Sancho ate a large onion under the cork tree at noon. ");
        assertEquals(afterCancel.getSizeTokens() + more.tokensCommitted(), client.getContext("cancelled").getSizeTokens());
        assertEquals(3, client.retrieve("cancelled", "What did Sancho eat?", 3).size());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus());
    }

    @Test
    void aSecondConcurrentIngestIntoTheSameContextIsRefused() throws Exception {
        client.createContext("busy");
        CompletableFuture<Throwable> first = new CompletableFuture<>();
        StreamObserver<IngestRequest> open = ArborGrpc.newStub(channel).ingest(recorder(first));
        open.onNext(IngestRequest.newBuilder().setOpen(IngestOpen.newBuilder().setContext("busy")).build());
        open.onNext(IngestRequest.newBuilder().setText(ByteString.copyFromUtf8("One sentence. ")).build());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (client.getContext("busy").getState() != ContextState.CONTEXT_STATE_INGESTING
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertCode(Status.Code.FAILED_PRECONDITION, "already being ingested", () -> client.ingest("busy", "Other text."));
        open.onCompleted();
        assertEquals(null, first.get(30, TimeUnit.SECONDS));
    }

    /** Sends the requests after an open of {@code context}; returns the failure, or null on success. */
    private StatusRuntimeException ingestRaw(String context, List<IngestRequest> chunks) throws Exception {
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        StreamObserver<IngestRequest> requests = ArborGrpc.newStub(channel).ingest(recorder(ended));
        requests.onNext(IngestRequest.newBuilder().setOpen(IngestOpen.newBuilder().setContext(context)).build());
        chunks.forEach(requests::onNext);
        requests.onCompleted();
        return (StatusRuntimeException) ended.get(30, TimeUnit.SECONDS);
    }

    private static StreamObserver<IngestResponse> recorder(CompletableFuture<Throwable> ended) {
        return new StreamObserver<>() {
            @Override
            public void onNext(IngestResponse value) {}

            @Override
            public void onError(Throwable t) {
                ended.complete(t);
            }

            @Override
            public void onCompleted() {
                ended.complete(null);
            }
        };
    }

    private static void assertCode(Status.Code code, String messagePart, Runnable call) {
        try {
            call.run();
        } catch (ArborException e) {
            assertEquals(code, e.code(), e.getMessage());
            assertTrue(e.getMessage().contains(messagePart), e.getMessage());
            return;
        } catch (StatusRuntimeException e) {
            assertEquals(code, e.getStatus().getCode(), e.getMessage());
            assertTrue(e.getMessage().contains(messagePart), e.getMessage());
            return;
        }
        throw new AssertionError("expected " + code + " but the call succeeded");
    }

}
