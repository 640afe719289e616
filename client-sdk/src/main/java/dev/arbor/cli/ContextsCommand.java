package dev.arbor.cli;

import dev.arbor.api.v1.Context;
import dev.arbor.client.ArborClient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code arbor contexts [list|delete NAME]}. */
@Command(name = "contexts", mixinStandardHelpOptions = true, description = "List or delete contexts.",
        subcommands = {ContextsCommand.ListContexts.class, ContextsCommand.DeleteContext.class})
final class ContextsCommand implements Callable<Integer> {
    @Mixin ServerOptions server;
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        return ListContexts.print(server, spec);
    }

    static Map<String, Object> row(Context c) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", c.getName());
        row.put("model", c.getModel());
        row.put("state", c.getState().name().replace("CONTEXT_STATE_", "").toLowerCase(Locale.ROOT));
        row.put("tokens", c.getSizeTokens());
        row.put("bytes_on_disk", c.getBytesOnDisk());
        return row;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List your contexts.")
    static final class ListContexts implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            return print(server, spec);
        }

        static int print(ServerOptions server, CommandSpec spec) {
            var out = spec.commandLine().getOut();
            try (ArborClient client = server.connect()) {
                List<Context> contexts = client.listContexts();
                if (server.json) {
                    out.println(server.json(Map.of("contexts", contexts.stream().map(ContextsCommand::row).toList())));
                } else {
                    out.printf("%-24s %-18s %-10s %14s %14s%n", "NAME", "MODEL", "STATE", "TOKENS", "BYTES");
                    for (Context c : contexts) {
                        Map<String, Object> r = row(c);
                        out.printf("%-24s %-18s %-10s %,14d %,14d%n", r.get("name"), r.get("model"), r.get("state"),
                                c.getSizeTokens(), c.getBytesOnDisk());
                    }
                }
            }
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a context and its files.")
    static final class DeleteContext implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Spec CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "Context to delete.")
        String name;

        @Override
        public Integer call() {
            try (ArborClient client = server.connect()) {
                long freed = client.deleteContext(name);
                var out = spec.commandLine().getOut();
                if (server.json) {
                    out.println(server.json(Map.of("deleted", name, "bytes_freed", freed)));
                } else {
                    out.printf("deleted '%s' (%,d bytes freed)%n", name, freed);
                }
            }
            return 0;
        }
    }
}
