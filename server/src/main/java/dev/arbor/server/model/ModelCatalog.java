package dev.arbor.server.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The models a server runs, by name, loaded once at start-up and shared by every context. */
public final class ModelCatalog implements AutoCloseable {
    private final Map<String, ContextModel> models = new LinkedHashMap<>();
    private final String defaultModel;

    public ModelCatalog(List<ContextModel> loaded, String defaultModel) {
        for (ContextModel model : loaded) {
            models.put(model.info().name(), model);
        }
        if (!models.containsKey(defaultModel)) {
            throw new IllegalArgumentException("default model '" + defaultModel + "' is not among the loaded models "
                    + models.keySet());
        }
        this.defaultModel = defaultModel;
    }

    public Optional<ContextModel> find(String name) {
        return Optional.ofNullable(models.get(name));
    }

    public String defaultModel() {
        return defaultModel;
    }

    public List<ModelInfo> models() {
        return models.values().stream().map(ContextModel::info).toList();
    }

    public List<String> names() {
        return List.copyOf(models.keySet());
    }

    @Override
    public void close() {
        models.values().forEach(ContextModel::close);
    }
}
