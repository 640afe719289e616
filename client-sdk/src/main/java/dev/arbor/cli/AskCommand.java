package dev.arbor.cli;

import dev.arbor.client.ArborClient;
import dev.arbor.client.RetrievedSpan;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code arbor ask --context NAME "question"}: the spans that answer a question, best first. */
@Command(name = "ask", mixinStandardHelpOptions = true, description = "Find the spans of a context that answer a question.")
final class AskCommand implements Callable<Integer> {
    @Mixin ServerOptions server;
    @Spec CommandSpec spec;

    @Option(names = "--context", required = true, description = "Context to search.")
    String context;

    @Option(names = {"-k", "--top"}, defaultValue = "5", description = "Spans to return, 1 to 100 (default: ${DEFAULT-VALUE}).")
    int k;

    @Parameters(paramLabel = "QUESTION", description = "The question.")
    String question;

    @Override
    public Integer call() {
        try (ArborClient client = server.connect()) {
            List<RetrievedSpan> spans = client.retrieve(context, question, k);
            var out = spec.commandLine().getOut();
            if (server.json) {
                out.println(server.json(Map.of("spans", spans.stream().map(s -> Map.of(
                        "text", s.text(), "start", s.start(), "end", s.end(), "score", s.score())).toList())));
            } else {
                for (int i = 0; i < spans.size(); i++) {
                    RetrievedSpan s = spans.get(i);
                    out.printf("%d. [%.3f] chars %d-%d%n   %s%n", i + 1, s.score(), s.start(), s.end(),
                            s.text().replaceAll("\\s+", " ").strip());
                }
            }
        }
        return 0;
    }
}
