package dev.arbor.bench;

import dev.arbor.cli.ArborSubcommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code arbor bench ...}: the benchmarks, each a subcommand writing JSON with {@code --json FILE}. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run a benchmark.",
        subcommands = {ServerBenchmark.class, EncoderBenchmark.class, AttentionBenchmark.class, ModelBenchmark.class})
public final class BenchCommand implements Runnable, ArborSubcommand {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
