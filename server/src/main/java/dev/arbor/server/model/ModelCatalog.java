package dev.arbor.server.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The models a server runs, by name, loaded once at start-up and shared by every context. */
public final class ModelCatalog implements AutoCloseable {
    private final Map<String, SpanEncoder> models = new LinkedHashMap<>();
    private final String defaultModel;

    public ModelCatalog(List<SpanEncoder> encoders, String defaultModel) {
        for (SpanEncoder encoder : encoders) {
            models.put(encoder.info().name(), encoder);
        }
        if (!models.containsKey(defaultModel)) {
            throw new IllegalArgumentException("default model '" + defaultModel + "' is not among the loaded models "
                    + models.keySet());
        }
        this.defaultModel = defaultModel;
    }

    public Optional<SpanEncoder> find(String name) {
        return Optional.ofNullable(models.get(name));
    }

    public String defaultModel() {
        return defaultModel;
    }

    public List<ModelInfo> models() {
        return models.values().stream().map(SpanEncoder::info).toList();
    }

    public List<String> names() {
        return List.copyOf(models.keySet());
    }

    @Override
    public void close() {
        models.values().forEach(SpanEncoder::close);
    }
}
