package dev.arbor.cli;

import picocli.CommandLine.Command;

/** The {@code arbor} command: client commands here, server-side ones added by {@link ArborSubcommand}. */
@Command(name = "arbor", mixinStandardHelpOptions = true, version = "arbor 0.1.0",
        description = "Long-context inference over streamed documents.",
        subcommands = {IngestCommand.class, AskCommand.class, GenerateCommand.class, ContextsCommand.class,
                ModelsCommand.class})
public final class ArborCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
