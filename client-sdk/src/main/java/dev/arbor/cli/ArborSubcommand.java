package dev.arbor.cli;

/**
 * A picocli {@code @Command} that another module adds to the {@code arbor} command line (such as
 * {@code serve}, {@code demo} and {@code bench}, which need the server). Implementations are listed
 * in {@code META-INF/services/dev.arbor.cli.ArborSubcommand} and found with {@link java.util.ServiceLoader},
 * so the client library does not depend on the modules that extend its command line.
 */
public interface ArborSubcommand {}
