package dev.arbor.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.arbor.client.ArborClient;
import dev.arbor.client.ArborException;
import dev.arbor.client.IngestProgress;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.server.ArborServer;
import dev.arbor.server.config.ConfigLoader;
import dev.arbor.encoder.DocumentEncoder;
import dev.arbor.encoder.MiniLmEncoder;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code arbor bench server}: what the gRPC server costs and how Retrieve scales.
 *
 * <ol>
 *   <li>Ingestion tokens/s through gRPC on loopback against the model alone (tokenize + encode the
 *       same sentences in-process); the ratio is the server's overhead.</li>
 *   <li>Retrieve latency p50/p99 at each context size (default 100K and 1M tokens, ingested over gRPC
 *       from the shared books), with one client and with {@code --clients} concurrent clients.</li>
 * </ol>
 * The context persists in {@code --data-dir}, so a second run skips what is already ingested.
 */
@Command(name = "server", mixinStandardHelpOptions = true,
        description = "Ingestion overhead of the gRPC server and Retrieve latency at growing context sizes.")
public final class ServerBenchmark implements Callable<Integer> {
    private static final String[] BOOKS = {"the-brothers-karamazov.txt", "don-quixote.txt", "les-miserables.txt",
            "the-count-of-monte-cristo.txt", "war-and-peace.txt"};
    private static final String[] QUESTIONS = {
            "Who is in love with whom?", "Where did the battle take place?", "What did the old man say about God?",
            "Why was the prisoner sent to the island?", "How did the knight fight the windmills?",
            "What did they eat for dinner?", "Who inherited the money?", "What happened at the trial?"};

    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Write the results as JSON to this file.")
    Path json;

    @Option(names = "--shared", defaultValue = "../shared", description = "Folder with data/*.txt (default: ${DEFAULT-VALUE}).")
    Path shared;

    @Option(names = "--data-dir", defaultValue = "target/bench-server-data",
            description = "Where the benchmark's server keeps its context (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--sizes", split = ",", defaultValue = "100000,1000000",
            description = "Context sizes in tokens at which Retrieve is measured (default: ${DEFAULT-VALUE}).")
    long[] sizes;

    @Option(names = "--overhead-chars", defaultValue = "150000",
            description = "Characters ingested for the overhead ratio (default: ${DEFAULT-VALUE}).")
    int overheadChars;

    @Option(names = "--queries", defaultValue = "200", description = "Retrieve calls per measurement (default: ${DEFAULT-VALUE}).")
    int queries;

    @Option(names = "--clients", defaultValue = "16", description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
    int clients;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        String corpus = corpus();
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("machine", Map.of("cores", Runtime.getRuntime().availableProcessors(),
                "java", System.getProperty("java.version")));
        try (ArborServer server = ArborServer.builder().config(new ConfigLoader()
                        .flag("port", 0).flag("metrics-port", -1).flag("data-dir", dataDir).load()).build().start();
                ArborClient client = ArborClient.builder().target("localhost:" + server.port()).build()) {
            results.put("ingest", measureOverhead(client, corpus.substring(0, overheadChars)));
            out.println("ingest: " + results.get("ingest"));
            out.flush();
            List<Object> retrieve = new ArrayList<>();
            ensureContext(client, "bench-corpus");
            for (long size : sizes) {
                growTo(client, "bench-corpus", corpus, size);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("context_tokens", client.getContext("bench-corpus").getSizeTokens());
                row.put("single_client", latencies(client, 1));
                row.put("concurrent_clients", clients);
                row.put("concurrent", latencies(client, clients));
                retrieve.add(row);
                out.println("retrieve: " + row);
                out.flush();
            }
            results.put("retrieve", retrieve);
        }
        if (json != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), results);
            out.println("wrote " + json);
        }
        return 0;
    }

    private Map<String, Object> measureOverhead(ArborClient client, String text) throws Exception {
        try (MiniLmEncoder model = MiniLmEncoder.open(new SessionFactory(SessionSettings.defaults()))) {
            // Both paths warm up first (JIT, ONNX Runtime's first runs) on a slice of the text.
            String warmUp = text.substring(0, Math.min(text.length(), 20_000));
            DocumentEncoder warm = model.newDocument();
            warm.append(warmUp);
            warm.finish();
            ingestOnce(client, "bench-warm-up", warmUp);

            // The model alone: the runtime's document encoder over the same text, in the same pieces.
            long start = System.nanoTime();
            DocumentEncoder document = model.newDocument();
            for (int from = 0; from < text.length(); from += 65_536) {
                document.append(text.substring(from, Math.min(text.length(), from + 65_536)));
            }
            document.finish();
            long tokens = document.committedTokens();
            double modelSeconds = (System.nanoTime() - start) / 1e9;

            long t0 = System.nanoTime();
            IngestProgress done = ingestOnce(client, "bench-overhead", text);
            double grpcSeconds = (System.nanoTime() - t0) / 1e9;

            double modelRate = tokens / modelSeconds;
            double grpcRate = done.tokensCommitted() / grpcSeconds;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("chars", text.length());
            row.put("tokens", done.tokensCommitted());
            row.put("model_alone_tokens_per_s", Math.round(modelRate));
            row.put("grpc_tokens_per_s", Math.round(grpcRate));
            row.put("ratio", Math.round(grpcRate / modelRate * 1000) / 1000.0);
            return row;
        }
    }

    /** Ingests {@code text} into a fresh context over gRPC and deletes the context again. */
    private static IngestProgress ingestOnce(ArborClient client, String name, String text) {
        try {
            client.deleteContext(name);
        } catch (ArborException.NotFoundException e) {
            // a fresh data directory: nothing left over from an interrupted run
        }
        client.createContext(name);
        IngestProgress done = client.ingest(name, new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)),
                p -> {});
        client.deleteContext(name);
        return done;
    }

    private static void ensureContext(ArborClient client, String name) {
        try {
            client.getContext(name);
        } catch (ArborException.NotFoundException e) {
            client.createContext(name);
        }
    }

    /** Appends the corpus, from where the context stops, until it holds at least {@code tokens}. */
    private void growTo(ArborClient client, String name, String corpus, long tokens) {
        var out = spec.commandLine().getOut();
        while (client.getContext(name).getSizeTokens() < tokens) {
            var context = client.getContext(name);
            int from = (int) context.getSizeChars();
            if (from >= corpus.length()) {
                throw new IllegalStateException("the corpus holds fewer than " + tokens + " tokens");
            }
            // About 4.2 characters per token in these books; stop a little past the target.
            long missing = tokens - context.getSizeTokens();
            int to = (int) Math.min(corpus.length(), from + Math.max(10_000, missing * 43 / 10));
            long start = System.nanoTime();
            IngestProgress done = client.ingest(name, new ByteArrayInputStream(
                    corpus.substring(from, to).getBytes(StandardCharsets.UTF_8)), p -> {});
            out.printf("ingested %,d tokens (context now %,d) at %,.0f tokens/s%n", done.tokensCommitted(),
                    done.contextTokens(), done.tokensCommitted() / ((System.nanoTime() - start) / 1e9));
            out.flush();
        }
    }

    private Map<String, Object> latencies(ArborClient client, int concurrency) throws Exception {
        for (int i = 0; i < 5; i++) {
            client.retrieve("bench-corpus", QUESTIONS[i % QUESTIONS.length], 5);
        }
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        try {
            List<Future<long[]>> futures = new ArrayList<>();
            int perClient = Math.max(1, queries / concurrency);
            long start = System.nanoTime();
            for (int c = 0; c < concurrency; c++) {
                int client0 = c;
                futures.add(pool.submit(() -> {
                    long[] nanos = new long[perClient];
                    for (int q = 0; q < perClient; q++) {
                        long t = System.nanoTime();
                        client.retrieve("bench-corpus", QUESTIONS[(client0 + q) % QUESTIONS.length], 5);
                        nanos[q] = System.nanoTime() - t;
                    }
                    return nanos;
                }));
            }
            List<Long> all = new ArrayList<>();
            for (Future<long[]> f : futures) {
                for (long n : f.get()) {
                    all.add(n);
                }
            }
            double wall = (System.nanoTime() - start) / 1e9;
            all.sort(null);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("queries", all.size());
            row.put("p50_ms", percentile(all, 0.50));
            row.put("p99_ms", percentile(all, 0.99));
            row.put("queries_per_s", Math.round(all.size() / wall * 10) / 10.0);
            return row;
        } finally {
            pool.shutdownNow();
        }
    }

    private static double percentile(List<Long> sorted, double p) {
        long nanos = sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1));
        return Math.round(nanos / 1e4) / 100.0;
    }

    private String corpus() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (String book : BOOKS) {
            Path file = shared.resolve("data").resolve(book);
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("missing " + file.toAbsolutePath() + " (pass --shared)");
            }
            sb.append(Files.readString(file)).append("\n\n");
        }
        return sb.toString();
    }
}
