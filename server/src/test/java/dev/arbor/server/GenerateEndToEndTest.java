package dev.arbor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.api.v1.ArborGrpc;
import dev.arbor.api.v1.AttentionSettings;
import dev.arbor.api.v1.CreateContextRequest;
import dev.arbor.api.v1.GenerateRequest;
import dev.arbor.api.v1.GenerateResponse;
import dev.arbor.api.v1.ModelKind;
import dev.arbor.client.ArborClient;
import dev.arbor.client.ArborException;
import dev.arbor.client.GeneratedToken;
import dev.arbor.decoder.LlamaModel;
import dev.arbor.server.config.ConfigLoader;
import dev.arbor.testing.SharedData;
import dev.arbor.tree.SearchParams;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generate over real Netty with the real stories260K decoder from ../shared/models. */
class GenerateEndToEndTest {
    private static final String STORY = "Once upon a time, there was a little girl named Lily. She loved to play"
            + " in the park with her big red ball. One day, she saw a small dog under a tree. ";

    @TempDir static Path dataDir;
    static ArborServer server;
    static ArborClient client;
    static String decoderName;

    @BeforeAll
    static void start() {
        server = ArborServer.builder().config(new ConfigLoader()
                .flag("port", 0).flag("metrics-port", 0).flag("data-dir", dataDir)
                .flag("decoder", SharedData.stories260kGguf()).flag("shutdown-grace-seconds", 2)
                .load()).build().start();
        client = ArborClient.builder().target("localhost:" + server.port()).build();
        decoderName = client.listModels().stream().filter(m -> m.getKind() == ModelKind.MODEL_KIND_DECODER)
                .findFirst().orElseThrow().getName();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    @Test
    void tokensStreamWithTheContextPositionsTheyAttendedTo() {
        client.createContext(CreateContextRequest.newBuilder().setName("story").setModel(decoderName).build());
        client.ingest("story", STORY);
        long contextTokens = client.getContext("story").getSizeTokens();
        assertTrue(contextTokens > 20, "the story was prefilled: " + contextTokens);

        List<GeneratedToken> tokens = new ArrayList<>();
        client.generate("story", "The dog", 24, tokens::add);
        assertFalse(tokens.isEmpty());
        for (int i = 0; i < tokens.size(); i++) {
            GeneratedToken token = tokens.get(i);
            assertEquals(i, token.index());
            assertFalse(token.attended().isEmpty(), "each token reports where it looked");
            for (long position : token.attended()) {
                assertTrue(position >= 0 && position < contextTokens + 2 + tokens.size(), "position " + position);
            }
        }
        assertTrue(tokens.stream().map(GeneratedToken::text).reduce("", String::concat).length() > 5);
    }

    @Test
    void decoderContextsTakeTheirTreeSettingsFromCreateContext() {
        AttentionSettings defaults = client.createContext(
                CreateContextRequest.newBuilder().setName("default-tree").setModel(decoderName).build()).getAttention();
        SearchParams search = LlamaModel.DEFAULT_TREE_SEARCH;
        assertEquals(AttentionSettings.newBuilder().setTopK(search.k())
                .setLeafBlockSize(LlamaModel.DEFAULT_TREE_SETTINGS.leafCapacity()).setBeamWidth(search.beam())
                .setSinkTokens(search.sinks()).setLocalWindow(search.window()).build(), defaults,
                "a decoder context without settings gets the decoder's measured defaults");

        AttentionSettings narrow = AttentionSettings.newBuilder().setTopK(8).setLeafBlockSize(16).setBeamWidth(2)
                .setSinkTokens(2).setLocalWindow(8).build();
        client.createContext(CreateContextRequest.newBuilder().setName("narrow-tree").setModel(decoderName)
                .setAttention(narrow).build());
        assertEquals(narrow, client.getContext("narrow-tree").getAttention());
        client.ingest("narrow-tree", STORY + STORY);
        List<GeneratedToken> tokens = new ArrayList<>();
        client.generate("narrow-tree", "The dog", 8, tokens::add);
        assertFalse(tokens.isEmpty(), "a narrow tree still generates");
    }

    @Test
    void retrieveOnADecoderContextAndGenerateOnAnEncoderContextFailThePrecondition() {
        client.createContext(CreateContextRequest.newBuilder().setName("decoder-only").setModel(decoderName).build());
        ArborException e = org.junit.jupiter.api.Assertions.assertThrows(ArborException.class,
                () -> client.retrieve("decoder-only", "Who?", 3));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.code());
        assertTrue(e.getMessage().contains("a decoder"), e.getMessage());
    }

    @Test
    void aClientThatStopsReadingHoldsGenerationBackAndCancellingStopsIt() throws Exception {
        client.createContext(CreateContextRequest.newBuilder().setName("slow-reader").setModel(decoderName).build());
        client.ingest("slow-reader", STORY);
        // A client with a tiny HTTP/2 window that reads one message and then nothing more.
        ManagedChannel slow = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext()
                .flowControlWindow(1024).build();
        AtomicInteger received = new AtomicInteger();
        AtomicBoolean ended = new AtomicBoolean();
        List<ClientCallStreamObserver<GenerateRequest>> call = new ArrayList<>();
        try {
            ArborGrpc.newStub(slow).generate(GenerateRequest.newBuilder().setContext("slow-reader")
                    .setPrompt("Lily").setMaxTokens(4096).setTemperature(1.0f).setSeed(7).build(),
                    new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<GenerateRequest> requests) {
                            call.add(requests);
                            requests.disableAutoRequestWithInitial(1);
                        }

                        @Override
                        public void onNext(GenerateResponse value) {
                            received.incrementAndGet();
                        }

                        @Override
                        public void onError(Throwable t) {
                            ended.set(true);
                        }

                        @Override
                        public void onCompleted() {
                            ended.set(true);
                        }
                    });
            long stable = waitUntilGeneratedStopsGrowing();
            System.out.printf("slow reader: server generated %d tokens, client read %d%n", stable, received.get());
            assertFalse(ended.get(), "the generation must still be waiting for the reader");
            assertEquals(1, received.get());
            assertTrue(stable < 1000, "server generated " + stable + " tokens for a client that read 1");

            call.get(0).cancel("the reader gives up", null);
            Thread.sleep(1500);
            assertEquals(stable, generatedTokens(), "cancelling stopped the generation");
            assertEquals(1, client.listModels().stream().filter(m -> m.getName().equals(decoderName)).count(),
                    "the server still serves");
        } finally {
            slow.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static long waitUntilGeneratedStopsGrowing() throws Exception {
        long last = -1;
        for (int i = 0; i < 60; i++) {
            Thread.sleep(1000);
            long now = generatedTokens();
            if (now == last && now > 0) {
                return now;
            }
            last = now;
        }
        throw new AssertionError("generation never stopped growing: " + last);
    }

    private static long generatedTokens() throws Exception {
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://localhost:" + server.metricsPort().orElseThrow() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^arbor_generated_tokens_total ([0-9.E]+)").matcher(metrics);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }
}
