package dev.arbor.cli;

import dev.arbor.api.v1.Model;
import dev.arbor.client.ArborClient;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code arbor models}: what the server can run. */
@Command(name = "models", mixinStandardHelpOptions = true, description = "List the models the server runs.")
final class ModelsCommand implements Callable<Integer> {
    @Mixin ServerOptions server;
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        try (ArborClient client = server.connect()) {
            List<Model> models = client.listModels();
            if (server.json) {
                out.println(server.json(Map.of("models", models.stream().map(m -> Map.of(
                        "name", m.getName(),
                        "kind", m.getKind().name().replace("MODEL_KIND_", "").toLowerCase(Locale.ROOT),
                        "default", m.getIsDefault(),
                        "dimension", m.getDimension(),
                        "description", m.getDescription())).toList())));
            } else {
                for (Model m : models) {
                    out.printf("%s%s  %s%n", m.getName(), m.getIsDefault() ? " (default)" : "", m.getDescription());
                }
            }
        }
        return 0;
    }
}
