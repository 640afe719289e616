package dev.arbor.server.context;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.arbor.server.model.ModelCatalog;
import dev.arbor.server.model.ContextModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The contexts of one server, per tenant. Each context lives in its own folder
 * {@code <data-dir>/<tenant>/<name>/}; contexts found there at start-up are reopened and their
 * stored text re-indexed (the model's vectors live in memory and are rebuilt from the text).
 */
public final class ContextRegistry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ContextRegistry.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final String DESCRIPTOR = "context.json";

    private record Key(String tenant, String name) {}

    private final Path dataDir;
    private final ModelCatalog models;
    private final int maxContexts;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<Key, StoredContext> contexts = new ConcurrentHashMap<>();

    public ContextRegistry(Path dataDir, ModelCatalog models, int maxContexts) {
        this.dataDir = dataDir;
        this.models = models;
        this.maxContexts = maxContexts;
        reopen();
    }

    /**
     * Creates an empty context.
     *
     * @throws IllegalArgumentException for a malformed name, an unknown model or bad attention settings
     * @throws ContextConflictException if the tenant already has a context of that name
     * @throws ContextLimitException if the server holds its configured maximum of contexts
     */
    public synchronized StoredContext create(String tenant, String name, String model, AttentionConfig attention) {
        checkName("context name", name);
        String modelName = model.isEmpty() ? models.defaultModel() : model;
        ContextModel chosen = models.find(modelName).orElseThrow(() -> new IllegalArgumentException(
                "unknown model '" + modelName + "'; this server runs " + models.names()));
        Key key = new Key(tenant, name);
        if (contexts.containsKey(key)) {
            throw new ContextConflictException("context '" + name + "' already exists");
        }
        if (contexts.size() >= maxContexts) {
            throw new ContextLimitException("the server holds its limit of " + maxContexts
                    + " contexts; delete one first or raise limits.max-contexts");
        }
        ContextDescriptor descriptor = new ContextDescriptor(tenant, name, modelName, chosen.attention(attention),
                System.currentTimeMillis());
        Path directory = dataDir.resolve(tenant).resolve(name);
        try {
            Files.createDirectories(directory);
            json.writeValue(directory.resolve(DESCRIPTOR).toFile(), descriptor);
        } catch (IOException e) {
            throw new UncheckedIOException("could not create the folder of context '" + name + "'", e);
        }
        StoredContext context = new StoredContext(descriptor, chosen, directory);
        contexts.put(key, context);
        log.info("created context tenant={} name={} model={}", tenant, name, modelName);
        return context;
    }

    public Optional<StoredContext> find(String tenant, String name) {
        return Optional.ofNullable(contexts.get(new Key(tenant, name)));
    }

    /** The tenant's contexts, by name. */
    public List<StoredContext> list(String tenant) {
        return contexts.values().stream()
                .filter(c -> c.descriptor().tenant().equals(tenant))
                .sorted(Comparator.comparing(c -> c.descriptor().name()))
                .toList();
    }

    public int size() {
        return contexts.size();
    }

    public long bytesOnDisk() {
        return contexts.values().stream().mapToLong(StoredContext::bytesOnDisk).sum();
    }

    /** Deletes the context and its folder; returns the bytes freed, or empty if there was no such context. */
    public synchronized Optional<Long> delete(String tenant, String name) {
        StoredContext context = contexts.remove(new Key(tenant, name));
        if (context == null) {
            return Optional.empty();
        }
        long bytes = context.bytesOnDisk();
        context.markDeleted();
        context.close();
        deleteRecursively(context.directory());
        log.info("deleted context tenant={} name={} bytes={}", tenant, name, bytes);
        return Optional.of(bytes);
    }

    /** The tenant as given in a request header, checked like a context name. */
    public static String checkTenant(String tenant) {
        checkName("tenant", tenant);
        return tenant;
    }

    private static void checkName(String what, String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + name + "' is not valid: use 1 to 64 letters, digits,"
                    + " '.', '_' or '-', starting with a letter or digit");
        }
    }

    private void reopen() {
        if (!Files.isDirectory(dataDir)) {
            return;
        }
        try (Stream<Path> descriptors = Files.find(dataDir, 3, (p, a) -> p.getFileName().toString().equals(DESCRIPTOR))) {
            for (Path file : descriptors.toList()) {
                ContextDescriptor descriptor = json.readValue(file.toFile(), ContextDescriptor.class);
                Optional<ContextModel> model = models.find(descriptor.model());
                if (model.isEmpty()) {
                    log.warn("not reopening context {} in {}: its model '{}' is not loaded", descriptor.name(),
                            file.getParent(), descriptor.model());
                    continue;
                }
                StoredContext context = new StoredContext(descriptor, model.get(), file.getParent());
                context.reindex();
                contexts.put(new Key(descriptor.tenant(), descriptor.name()), context);
                log.info("reopened and re-indexed context tenant={} name={} tokens={}", descriptor.tenant(), descriptor.name(),
                        context.tokens());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the contexts in " + dataDir, e);
        }
    }

    private static void deleteRecursively(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + directory, e);
        }
    }

    @Override
    public void close() {
        contexts.values().forEach(StoredContext::close);
    }
}
