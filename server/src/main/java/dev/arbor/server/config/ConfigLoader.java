package dev.arbor.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.arbor.ort.ExecutionProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Builds a {@link ServerConfig} from four layers, later ones winning: built-in defaults, a YAML file,
 * environment variables ({@code ARBOR_} + the key in upper case with {@code -} and {@code .} as
 * {@code _}, e.g. {@code ARBOR_LIMITS_MAX_CONTEXTS}), and flags. Keys are those of
 * {@link ServerConfig#describe()}; an unknown key or a malformed value is an error naming its source.
 */
public final class ConfigLoader {
    private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put("port", "50051");
        DEFAULTS.put("metrics-port", "9464");
        DEFAULTS.put("data-dir", "arbor-data");
        DEFAULTS.put("model", "all-minilm-l6-v2");
        DEFAULTS.put("decoder", "");
        DEFAULTS.put("provider", "cpu");
        DEFAULTS.put("threads", "0");
        DEFAULTS.put("ingest-threads", "2");
        DEFAULTS.put("generate-threads", "2");
        DEFAULTS.put("attention-threads", "0");
        DEFAULTS.put("limits.ingest-window", "4");
        DEFAULTS.put("limits.max-chunk-bytes", String.valueOf(1 << 20));
        DEFAULTS.put("limits.max-contexts", "1000");
        DEFAULTS.put("limits.max-context-tokens", "100000000");
        DEFAULTS.put("shutdown-grace-seconds", "10");
    }

    private final Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
    private final Map<String, String> sources = new LinkedHashMap<>();

    public ConfigLoader() {
        DEFAULTS.keySet().forEach(key -> sources.put(key, "default"));
    }

    /** Reads a YAML file of the same keys; nested maps ({@code limits: {max-contexts: 5}}) are flattened. */
    public ConfigLoader file(Path yaml) {
        if (!Files.isRegularFile(yaml)) {
            throw new IllegalArgumentException("configuration file " + yaml + " does not exist");
        }
        try {
            JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(yaml.toFile());
            if (root != null && !root.isMissingNode() && !root.isNull()) {
                flatten("", root, "file " + yaml);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read configuration file " + yaml + ": " + e.getMessage(), e);
        }
        return this;
    }

    /** Reads {@code ARBOR_*} variables for the known keys. */
    public ConfigLoader environment(Map<String, String> env) {
        for (String key : DEFAULTS.keySet()) {
            String name = "ARBOR_" + key.toUpperCase(Locale.ROOT).replace('-', '_').replace('.', '_');
            if (env.containsKey(name)) {
                set(key, env.get(name), "environment " + name);
            }
        }
        return this;
    }

    /** A value given on the command line. */
    public ConfigLoader flag(String key, Object value) {
        if (value != null) {
            set(key, String.valueOf(value), "flag --" + key);
        }
        return this;
    }

    public ServerConfig load() {
        return new ServerConfig(
                parse("port", Integer::parseInt),
                parse("metrics-port", Integer::parseInt),
                parse("data-dir", Path::of),
                parse("model", s -> s),
                parse("decoder", s -> s.isEmpty() ? Optional.<Path>empty() : Optional.of(Path.of(s))),
                parse("provider", ExecutionProvider::parse),
                parse("threads", Integer::parseInt),
                parse("ingest-threads", Integer::parseInt),
                parse("generate-threads", Integer::parseInt),
                parse("attention-threads", Integer::parseInt),
                parse("limits.ingest-window", Integer::parseInt),
                parse("limits.max-chunk-bytes", Integer::parseInt),
                parse("limits.max-contexts", Integer::parseInt),
                parse("limits.max-context-tokens", Long::parseLong),
                Duration.ofSeconds(parse("shutdown-grace-seconds", Long::parseLong)));
    }

    /** Where each key's value came from, for the start-up printout. */
    public Map<String, String> sources() {
        return Map.copyOf(sources);
    }

    private void flatten(String prefix, JsonNode node, String source) {
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = prefix + field.getKey();
            if (field.getValue().isObject()) {
                flatten(key + ".", field.getValue(), source);
            } else {
                set(key, field.getValue().asText(), source);
            }
        }
    }

    private void set(String key, String value, String source) {
        if (!DEFAULTS.containsKey(key)) {
            throw new IllegalArgumentException("unknown configuration key '" + key + "' in " + source + "; known keys: "
                    + String.join(", ", DEFAULTS.keySet()));
        }
        values.put(key, value);
        sources.put(key, source);
    }

    private <T> T parse(String key, Function<String, T> parser) {
        String value = values.get(key);
        try {
            return parser.apply(value.trim());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("configuration " + key + " = '" + value + "' (from " + sources.get(key)
                    + ") is not valid: " + e.getMessage(), e);
        }
    }
}
