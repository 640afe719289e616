package dev.arbor.server.cli;

import dev.arbor.cli.ArborSubcommand;
import dev.arbor.server.ArborServer;
import dev.arbor.server.config.ConfigLoader;
import dev.arbor.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code arbor serve}: runs a server until interrupted, then shuts down gracefully. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = {
        "Run an Arbor server.",
        "Configuration: defaults < --config FILE (YAML) < ARBOR_* environment variables < flags."})
public final class ServeCommand implements Callable<Integer>, ArborSubcommand {
    @Spec CommandSpec spec;

    @Option(names = "--config", description = "YAML configuration file.")
    Path config;

    @Option(names = "--port", description = "gRPC port (default 50051).")
    Integer port;

    @Option(names = "--metrics-port", description = "Prometheus /metrics HTTP port, -1 to disable (default 9464).")
    Integer metricsPort;

    @Option(names = "--data-dir", description = "Where contexts are stored (default ./arbor-data).")
    Path dataDir;

    @Option(names = "--model", description = "Default model for new contexts (default all-minilm-l6-v2).")
    String model;

    @Option(names = "--decoder", description = "Decoder checkpoint to serve for Generate (GGUF, llama2.c .bin or HF folder).")
    Path decoder;

    @Option(names = "--provider", description = "ONNX Runtime execution provider: cpu or cuda (default cpu).")
    String provider;

    @Option(names = "--threads", description = "ONNX Runtime intra-op threads, 0 = ONNX Runtime's choice (default 0).")
    Integer threads;

    @Option(names = "--ingest-threads", description = "Ingestion streams processed at once (default 2).")
    Integer ingestThreads;

    @Option(names = "--attention-threads", description = "Threads a decoder's tree attention searches its kv heads on,"
            + " 0 = the processors available (default 0).")
    Integer attentionThreads;

    @Option(names = "--max-contexts", description = "Contexts the server holds at most (default 1000).")
    Integer maxContexts;

    @Override
    public Integer call() throws InterruptedException {
        ConfigLoader loader = new ConfigLoader();
        if (config != null) {
            loader.file(config);
        }
        ServerConfig effective = loader.environment(System.getenv())
                .flag("port", port)
                .flag("metrics-port", metricsPort)
                .flag("data-dir", dataDir)
                .flag("model", model)
                .flag("decoder", decoder)
                .flag("provider", provider)
                .flag("threads", threads)
                .flag("ingest-threads", ingestThreads)
                .flag("attention-threads", attentionThreads)
                .flag("limits.max-contexts", maxContexts)
                .load();
        printEffective(effective, loader.sources());
        ArborServer server = ArborServer.builder().config(effective).build().start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "arbor-shutdown"));
        spec.commandLine().getOut().printf("arbor: serving on port %d; Ctrl-C stops%n", server.port());
        spec.commandLine().getOut().flush();
        server.awaitTermination();
        return 0;
    }

    private void printEffective(ServerConfig config, Map<String, String> sources) {
        var out = spec.commandLine().getOut();
        out.println("arbor: effective configuration");
        config.describe().forEach((key, value) -> out.printf("  %-26s %-40s (%s)%n", key + ":", value, sources.get(key)));
        out.flush();
    }
}
