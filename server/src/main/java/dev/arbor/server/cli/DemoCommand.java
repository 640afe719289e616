package dev.arbor.server.cli;

import dev.arbor.cli.ArborSubcommand;
import dev.arbor.client.ArborClient;
import dev.arbor.client.IngestProgress;
import dev.arbor.client.RetrievedSpan;
import dev.arbor.server.ArborServer;
import dev.arbor.server.config.ConfigLoader;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code arbor demo}: an in-process server on the embedded MiniLM ingests a long text over gRPC,
 * answers a question about a sentence hidden in it, and prints the spans and timings.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start an in-process server, ingest a long text, ask a question, print spans and timings.")
public final class DemoCommand implements Callable<Integer>, ArborSubcommand {
    private static final String NEEDLE = "The secret password to the observatory vault is marmalade-seventeen.";

    @Spec CommandSpec spec;

    @Option(names = "--file", description = "UTF-8 text to ingest (default: a book from ../shared/data).")
    Path file;

    @Option(names = "--chars", defaultValue = "300000", description = "Characters of it to ingest (default: ${DEFAULT-VALUE}).")
    int chars;

    @Option(names = "--question", defaultValue = "What is the password of the observatory vault?",
            description = "Question to ask (default: about a sentence the demo hides at 70% depth).")
    String question;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        String text = text();
        Path dataDir = Files.createTempDirectory("arbor-demo");
        long t0 = System.nanoTime();
        try (ArborServer server = ArborServer.builder().config(new ConfigLoader()
                        .flag("port", 0).flag("metrics-port", -1).flag("data-dir", dataDir).load()).build().start();
                ArborClient client = ArborClient.builder().target("localhost:" + server.port()).build()) {
            out.printf("server up on port %d in %.1f s (model all-minilm-l6-v2, data in %s)%n", server.port(),
                    seconds(t0), dataDir);
            client.createContext("demo");
            long t1 = System.nanoTime();
            IngestProgress done = client.ingest("demo", new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)),
                    p -> {});
            double ingestSeconds = seconds(t1);
            out.printf("ingested %,d characters = %,d tokens in %.1f s (%,.0f tokens/s)%n", text.length(),
                    done.tokensCommitted(), ingestSeconds, done.tokensCommitted() / ingestSeconds);
            long t2 = System.nanoTime();
            List<RetrievedSpan> spans = client.retrieve("demo", question, 3);
            out.printf("asked \"%s\" in %.0f ms:%n", question, seconds(t2) * 1000);
            for (int i = 0; i < spans.size(); i++) {
                RetrievedSpan s = spans.get(i);
                out.printf("  %d. [%.3f] chars %,d-%,d: %s%n", i + 1, s.score(), s.start(), s.end(),
                        s.text().replaceAll("\\s+", " ").strip());
            }
        } finally {
            try (var files = Files.walk(dataDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return 0;
    }

    private String text() throws Exception {
        Path source = file != null ? file : Path.of("..", "shared", "data", "the-brothers-karamazov.txt");
        if (!Files.isRegularFile(source)) {
            throw new IllegalArgumentException("no text to ingest at " + source.toAbsolutePath()
                    + "; pass --file with any long UTF-8 text");
        }
        String all = Files.readString(source);
        String text = all.substring(0, Math.min(all.length(), chars));
        if (file != null) {
            return text;
        }
        int at = text.indexOf("\n\n", (int) (text.length() * 0.7));
        return text.substring(0, at) + "\n\n" + NEEDLE + text.substring(at);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
