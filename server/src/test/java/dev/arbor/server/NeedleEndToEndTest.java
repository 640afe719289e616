package dev.arbor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.arbor.client.ArborClient;
import dev.arbor.client.IngestProgress;
import dev.arbor.client.RetrievedSpan;
import dev.arbor.testing.SharedData;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The expensive end-to-end test: a 1 MiB stretch of a real book with three planted "needle"
 * sentences is ingested once over real Netty on loopback with the real MiniLM; then each needle
 * must come back as the top span for a question about it.
 */
class NeedleEndToEndTest {
    private static final int BOOK_BYTES = 1 << 20;
    private static final Map<Double, String[]> NEEDLES = Map.of(
            0.1, new String[] {"The lighthouse keeper Bartholomew painted his boat bright purple every spring.",
                    "What colour did Bartholomew the lighthouse keeper paint his boat every spring?"},
            0.5, new String[] {"The secret password to the observatory vault is marmalade-seventeen.",
                    "What is the secret password to the observatory vault?"},
            0.9, new String[] {"Professor Okonkwo's pet tortoise won the village chess tournament in 1887.",
                    "Whose pet tortoise won the village chess tournament in 1887?"});

    @TempDir static Path dataDir;
    static ArborServer server;
    static ArborClient client;
    static String text;
    static IngestProgress ingested;
    static final List<IngestProgress> progress = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void ingestBookWithNeedles() throws Exception {
        text = bookWithNeedles();
        server = TestServers.start(dataDir);
        client = ArborClient.builder().target("localhost:" + server.port()).build();
        client.createContext("book");
        long start = System.nanoTime();
        try (InputStream in = new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))) {
            ingested = client.ingest("book", in, progress::add);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("ingested %d tokens (%d chars) in %.1f s = %.0f tokens/s over gRPC%n",
                ingested.tokensCommitted(), text.length(), seconds, ingested.tokensCommitted() / seconds);
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    @Test
    void finalCountEqualsTheTokenizersCountOfTheWholeText() throws Exception {
        try (InputStream json = NeedleEndToEndTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json");
                HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(json,
                        Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"))) {
            long expected = tokenizer.encode(text, false, false).getIds().length;
            assertEquals(expected, ingested.tokensCommitted());
            assertEquals(expected, client.getContext("book").getSizeTokens());
        }
        assertTrue(ingested.done());
        assertTrue(progress.size() > 3, "expected progress messages along the way, got " + progress.size());
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i).tokensCommitted() >= progress.get(i - 1).tokensCommitted());
        }
    }

    @Test
    void eachNeedleIsTheTopSpanForAQuestionAboutIt() {
        for (String[] needle : NEEDLES.values()) {
            List<RetrievedSpan> spans = client.retrieve("book", needle[1], 3);
            RetrievedSpan top = spans.get(0);
            assertTrue(top.text().contains(needle[0]), "for '" + needle[1] + "' the top span was: " + top.text());
            assertEquals(top.text(), text.substring((int) top.start(), (int) top.end()),
                    "span offsets must point into the ingested text");
        }
    }

    @Test
    void metricsCountTheIngestedTokens() throws Exception {
        String metrics = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + server.metricsPort().orElseThrow() + "/metrics"))
                        .build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("arbor_ingested_tokens_total " + (double) ingested.tokensCommitted()), metrics);
        assertTrue(metrics.contains("arbor_rpc_latency_seconds_bucket{method=\"Ingest\""), metrics);
        assertTrue(metrics.contains("arbor_contexts 1.0"), metrics);
    }

    /** A 1 MiB prefix of a book, cut at a paragraph, with each needle inserted at a paragraph break. */
    private static String bookWithNeedles() throws Exception {
        String book = Files.readString(SharedData.book("the-brothers-karamazov.txt"));
        StringBuilder sb = new StringBuilder(book.substring(0, book.lastIndexOf("\n\n", BOOK_BYTES)));
        NEEDLES.entrySet().stream().sorted(Map.Entry.<Double, String[]>comparingByKey().reversed()).forEach(e -> {
            int at = sb.indexOf("\n\n", (int) (sb.length() * e.getKey()));
            sb.insert(at, "\n\n" + e.getValue()[0]);
        });
        return sb.toString();
    }
}
