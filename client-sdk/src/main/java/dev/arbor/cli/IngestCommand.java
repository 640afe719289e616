package dev.arbor.cli;

import dev.arbor.api.v1.AttentionSettings;
import dev.arbor.api.v1.CreateContextRequest;
import dev.arbor.client.ArborClient;
import dev.arbor.client.ArborException;
import dev.arbor.client.IngestProgress;
import dev.arbor.client.ProgressListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code arbor ingest --context NAME FILE}: streams a UTF-8 text file into a context, creating it if needed. */
@Command(name = "ingest", mixinStandardHelpOptions = true, description = "Stream a UTF-8 text file into a context.")
final class IngestCommand implements Callable<Integer> {
    @Mixin ServerOptions server;
    @Spec CommandSpec spec;

    @Option(names = "--context", required = true, description = "Context to append to (created if missing).")
    String context;

    @Option(names = "--model", defaultValue = "", description = "Model for a new context (default: the server's).")
    String model;

    @Option(names = "--top-k", defaultValue = "0",
            description = "Attention of a new context: keys kept per query (spans per answer on encoder models); 0: the model's default.")
    int topK;

    @Option(names = "--leaf-size", defaultValue = "0", description = "Attention of a new context: keys per tree leaf; 0: the model's default.")
    int leafSize;

    @Option(names = "--beam", defaultValue = "0", description = "Attention of a new context: tree nodes kept per level; 0: the model's default.")
    int beam;

    @Option(names = "--exact", description = "Attention of a new context: exact tree search instead of the beam.")
    boolean exact;

    @Parameters(paramLabel = "FILE", description = "UTF-8 text file.")
    Path file;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no such file: " + file);
        }
        try (ArborClient client = server.connect()) {
            try {
                client.getContext(context);
            } catch (ArborException.NotFoundException e) {
                client.createContext(CreateContextRequest.newBuilder().setName(context).setModel(model)
                        .setAttention(AttentionSettings.newBuilder().setTopK(topK).setLeafBlockSize(leafSize)
                                .setBeamWidth(beam).setExactSearch(exact))
                        .build());
            }
            long start = System.nanoTime();
            ProgressListener listener = server.json ? ProgressListener.NONE : new ProgressBar(spec.commandLine().getErr());
            IngestProgress done = client.ingest(context, file, listener);
            double seconds = (System.nanoTime() - start) / 1e9;
            var out = spec.commandLine().getOut();
            if (server.json) {
                out.println(server.json(Map.of("context", context, "tokens", done.tokensCommitted(),
                        "context_tokens", done.contextTokens(), "seconds", seconds)));
            } else {
                out.printf("ingested %,d tokens into '%s' in %.1f s (%,.0f tokens/s); it now holds %,d tokens%n",
                        done.tokensCommitted(), context, seconds, done.tokensCommitted() / seconds, done.contextTokens());
            }
        }
        return 0;
    }
}
