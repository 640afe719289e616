package dev.arbor.cli;

import java.util.ServiceLoader;
import picocli.CommandLine;

/** Entry point of the {@code arbor} command line. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The full command line: the client commands plus every {@link ArborSubcommand} on the classpath. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new ArborCommand());
        for (ArborSubcommand extension : ServiceLoader.load(ArborSubcommand.class)) {
            cli.addSubcommand(extension);
        }
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("arbor: " + e.getMessage());
            return e instanceof dev.arbor.client.ArborException ? 2 : 1;
        });
        return cli;
    }
}
