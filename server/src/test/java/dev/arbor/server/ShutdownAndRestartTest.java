package dev.arbor.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.client.ArborClient;
import dev.arbor.client.ArborException;
import dev.arbor.client.IngestProgress;
import dev.arbor.testing.SharedData;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shutting down mid-ingest fails the call cleanly; a restarted server reopens the context from disk. */
class ShutdownAndRestartTest {
    @TempDir Path dataDir;

    @Test
    void shutdownFailsTheInFlightIngestAndTheContextSurvivesARestart() throws Exception {
        String book = Files.readString(SharedData.book("war-and-peace.txt")).substring(0, 300_000);
        long charsBefore;
        long tokensBefore;
        ArborServer server = TestServers.start(dataDir);
        try (ArborClient client = ArborClient.builder().target("localhost:" + server.port()).maxAttempts(1)
                .chunkBytes(8192).build()) {
            client.createContext("survivor");
            client.ingest("survivor", "Prince Andrei looked at the sky above Austerlitz. It was high and calm. ");
            CountDownLatch started = new CountDownLatch(1);
            CompletableFuture<IngestProgress> ingest = client.ingestAsync("survivor",
                    new ByteArrayInputStream(book.getBytes(StandardCharsets.UTF_8)), p -> started.countDown());
            assertTrue(started.await(300, TimeUnit.SECONDS), "ingestion made progress");
            long t = System.nanoTime();
            server.close();
            double seconds = (System.nanoTime() - t) / 1e9;
            ExecutionException failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> ingest.get(30, TimeUnit.SECONDS));
            Status.Code code = ((ArborException) failure.getCause()).code();
            assertTrue(code == Status.Code.CANCELLED || code == Status.Code.UNAVAILABLE, "ended with " + code);
            assertTrue(seconds < 2 + 5 + 30, "shutdown took " + seconds + " s");
        }

        ArborServer restarted = TestServers.start(dataDir);
        try (ArborClient client = ArborClient.builder().target("localhost:" + restarted.port()).build()) {
            var context = client.getContext("survivor");
            charsBefore = context.getSizeChars();
            tokensBefore = context.getSizeTokens();
            assertTrue(charsBefore > 70 && charsBefore < 70 + book.length(), "chars " + charsBefore);
            assertTrue(tokensBefore > 10, "re-indexed tokens " + tokensBefore);
            var spans = client.retrieve("survivor", "Prince Andrei looked at the sky above Austerlitz", 5);
            assertTrue(spans.stream().anyMatch(s -> s.text().contains("sky above Austerlitz")), spans.toString());
        } finally {
            restarted.close();
        }
    }
}
