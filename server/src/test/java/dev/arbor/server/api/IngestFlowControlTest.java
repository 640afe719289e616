package dev.arbor.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.arbor.api.v1.IngestOpen;
import dev.arbor.api.v1.IngestRequest;
import dev.arbor.api.v1.IngestResponse;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.server.context.AttentionConfig;
import dev.arbor.server.context.ContextRegistry;
import dev.arbor.server.context.StoredContext;
import dev.arbor.server.metrics.ArborMetrics;
import dev.arbor.server.model.MiniLmModel;
import dev.arbor.server.model.ModelCatalog;
import io.grpc.stub.ServerCallStreamObserver;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Ingest call asks gRPC for messages only as it processes them. A recording stand-in for the
 * transport plays the fast client (it delivers every message the call asked for, at once), and a
 * step-by-step executor plays the slow model, so the window can be checked exactly.
 */
class IngestFlowControlTest {
    private static final int WINDOW = 3;
    @TempDir static Path dataDir;
    static ModelCatalog models;
    static ContextRegistry contexts;

    @BeforeAll
    static void load() {
        models = new ModelCatalog(List.of(MiniLmModel.open(new SessionFactory(SessionSettings.defaults()))),
                MiniLmModel.NAME);
        contexts = new ContextRegistry(dataDir, models, 10);
    }

    @AfterAll
    static void close() {
        contexts.close();
        models.close();
    }

    @Test
    void neverHoldsMoreThanTheWindowOfUnprocessedChunks() {
        contexts.create("default", "flow", "", AttentionConfig.UNSET);
        RecordingTransport transport = new RecordingTransport();
        StepExecutor model = new StepExecutor();
        IngestCall call = new IngestCall(transport, contexts, new ArborMetrics(contexts), model, "default", WINDOW,
                1 << 20, Long.MAX_VALUE);
        assertTrue(transport.autoRequestDisabled, "automatic inbound flow control must be off");

        List<IngestRequest> document = new ArrayList<>();
        document.add(IngestRequest.newBuilder().setOpen(IngestOpen.newBuilder().setContext("flow")).build());
        for (int i = 0; i < 20; i++) {
            document.add(IngestRequest.newBuilder()
                    .setText(ByteString.copyFromUtf8("Sentence number " + i + " of the document. ")).build());
        }
        var context = contexts.find("default", "flow").orElseThrow();
        int delivered = 0;
        while (true) {
            // The fast client: everything the server asked for arrives at once.
            while (delivered < transport.requested && delivered < document.size()) {
                call.onNext(document.get(delivered++));
            }
            // The open message answers nothing but marks the context as ingesting; each text chunk answers progress.
            int processed = transport.responses.size() + (context.state() == StoredContext.State.INGESTING ? 1 : 0);
            assertTrue(transport.requested - processed <= WINDOW, "server asked for " + transport.requested
                    + " messages having processed " + processed + "; the window is " + WINDOW);
            if (!model.hasWork()) {
                break;
            }
            model.runOneTask();
        }
        assertEquals(document.size(), delivered, "the whole document went through");
        call.onCompleted();
        while (model.hasWork()) {
            model.runOneTask();
        }
        assertTrue(transport.completed);
        IngestResponse last = transport.responses.get(transport.responses.size() - 1);
        assertTrue(last.getDone());
        assertEquals(contexts.find("default", "flow").orElseThrow().tokens(), last.getTokensCommitted());
        assertTrue(last.getTokensCommitted() > 100);
        assertFalse(transport.failed);
    }

    /** Runs submitted tasks only when told to. */
    private static final class StepExecutor implements Executor {
        private final Queue<Runnable> tasks = new ArrayDeque<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        boolean hasWork() {
            return !tasks.isEmpty();
        }

        void runOneTask() {
            tasks.poll().run();
        }
    }

    private static final class RecordingTransport extends ServerCallStreamObserver<IngestResponse> {
        int requested;
        boolean autoRequestDisabled;
        boolean completed;
        boolean failed;
        final List<IngestResponse> responses = new ArrayList<>();

        @Override
        public void disableAutoRequest() {
            autoRequestDisabled = true;
        }

        @Override
        public void disableAutoInboundFlowControl() {
            autoRequestDisabled = true;
        }

        @Override
        public void request(int count) {
            requested += count;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void onNext(IngestResponse value) {
            responses.add(value);
        }

        @Override
        public void onError(Throwable t) {
            failed = true;
        }

        @Override
        public void onCompleted() {
            completed = true;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void setOnCancelHandler(Runnable onCancelHandler) {}

        @Override
        public void setCompression(String compression) {}

        @Override
        public void setOnReadyHandler(Runnable onReadyHandler) {}

        @Override
        public void setMessageCompression(boolean enable) {}
    }
}
