package dev.arbor.cli;

import dev.arbor.client.ArborClient;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code arbor generate --context NAME "prompt"}: prints tokens as they stream in. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate text over a context, streaming tokens.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin ServerOptions server;
    @Spec CommandSpec spec;

    @Option(names = "--context", required = true, description = "Context to attend over.")
    String context;

    @Option(names = "--max-tokens", defaultValue = "128", description = "Tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Parameters(paramLabel = "PROMPT", description = "The prompt.")
    String prompt;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        try (ArborClient client = server.connect()) {
            client.generate(context, prompt, maxTokens, token -> {
                if (server.json) {
                    out.println(server.json(Map.of("index", token.index(), "id", token.id(), "text", token.text(),
                            "attended", token.attended())));
                } else {
                    out.print(token.text());
                }
                out.flush();
            });
        }
        if (!server.json) {
            out.println();
        }
        return 0;
    }
}
