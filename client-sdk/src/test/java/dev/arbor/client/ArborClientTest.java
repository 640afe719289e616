package dev.arbor.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.api.v1.ArborGrpc;
import dev.arbor.api.v1.Context;
import dev.arbor.api.v1.GetContextRequest;
import dev.arbor.api.v1.IngestRequest;
import dev.arbor.api.v1.IngestResponse;
import dev.arbor.api.v1.RetrieveRequest;
import dev.arbor.api.v1.RetrieveResponse;
import dev.arbor.api.v1.Span;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The SDK against a stand-in server on an in-process transport: the stand-in provokes the failures
 * and records what the SDK sends; the real server is exercised by the server module's tests.
 */
class ArborClientTest {
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final List<Integer> chunkSizes = new ArrayList<>();
    private Server server;
    private ManagedChannel channel;
    private ArborClient client;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor().addService(new StandIn()).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        client = ArborClient.builder().channel(channel).chunkBytes(1000).build();
    }

    @AfterEach
    void stop() {
        client.close();
        channel.shutdownNow();
        server.shutdownNow();
    }

    @Test
    void failuresBecomeTypedExceptionsCarryingTheStatus() {
        var notFound = assertThrows(ArborException.NotFoundException.class, () -> client.getContext("missing"));
        assertEquals(Status.Code.NOT_FOUND, notFound.code());
        assertTrue(notFound.getMessage().contains("context 'missing' does not exist"), notFound.getMessage());
        var invalid = assertThrows(ArborException.InvalidRequestException.class,
                () -> client.retrieve("book", " ", 3));
        assertEquals("question is empty", invalid.status().getDescription());
    }

    @Test
    void retrieveReturnsSpansInTheOrderTheServerSent() {
        List<RetrievedSpan> spans = client.retrieve("book", "who?", 2);
        assertEquals(List.of(new RetrievedSpan("first", 0, 5, 0.9f), new RetrievedSpan("second", 6, 12, 0.5f)), spans);
    }

    @Test
    void ingestStreamsTheInputInChunksAndReportsProgress() {
        byte[] text = new byte[12_345];
        new Random(7).nextBytes(text);
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ('a' + Math.floorMod(text[i], 26));
        }
        List<IngestProgress> progress = new ArrayList<>();
        IngestProgress done = client.ingest("book", new ByteArrayInputStream(text), progress::add);
        assertArrayEquals(text, received.toByteArray());
        assertTrue(chunkSizes.stream().allMatch(size -> size <= 1000), chunkSizes.toString());
        assertEquals(13, chunkSizes.size());
        assertTrue(done.done());
        assertEquals(text.length, done.tokensCommitted());
        assertTrue(progress.size() > 1);
    }

    @Test
    void ingestFailuresAreTyped() {
        var e = assertThrows(ArborException.class, () -> client.ingest("refused", "text"));
        assertInstanceOf(ArborException.ConflictException.class, e);
    }

    /** Answers like a server would, including its failures; counts ingested bytes as "tokens". */
    private final class StandIn extends ArborGrpc.ArborImplBase {
        @Override
        public void getContext(GetContextRequest request, StreamObserver<Context> responses) {
            responses.onError(Status.NOT_FOUND.withDescription("context '" + request.getName() + "' does not exist")
                    .asRuntimeException());
        }

        @Override
        public void retrieve(RetrieveRequest request, StreamObserver<RetrieveResponse> responses) {
            if (request.getQuestion().isBlank()) {
                responses.onError(Status.INVALID_ARGUMENT.withDescription("question is empty").asRuntimeException());
                return;
            }
            responses.onNext(RetrieveResponse.newBuilder().setRank(1).setSpan(Span.newBuilder()
                    .setText("first").setStart(0).setEnd(5).setScore(0.9f)).build());
            responses.onNext(RetrieveResponse.newBuilder().setRank(2).setSpan(Span.newBuilder()
                    .setText("second").setStart(6).setEnd(12).setScore(0.5f)).build());
            responses.onCompleted();
        }

        @Override
        public StreamObserver<IngestRequest> ingest(StreamObserver<IngestResponse> responses) {
            var stream = (ServerCallStreamObserver<IngestResponse>) responses;
            stream.disableAutoRequest();
            stream.request(1);
            return new StreamObserver<>() {
                long bytes;

                @Override
                public void onNext(IngestRequest request) {
                    if (request.hasOpen() && request.getOpen().getContext().equals("refused")) {
                        responses.onError(Status.FAILED_PRECONDITION.withDescription("busy").asRuntimeException());
                        return;
                    }
                    if (request.hasText()) {
                        chunkSizes.add(request.getText().size());
                        received.writeBytes(request.getText().toByteArray());
                        bytes += request.getText().size();
                        responses.onNext(IngestResponse.newBuilder().setTokensCommitted(bytes).setBytesReceived(bytes).build());
                    }
                    stream.request(1);
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    responses.onNext(IngestResponse.newBuilder().setTokensCommitted(bytes).setDone(true).build());
                    responses.onCompleted();
                }
            };
        }
    }
}
