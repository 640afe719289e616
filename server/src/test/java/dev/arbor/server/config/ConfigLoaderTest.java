package dev.arbor.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.ort.ExecutionProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir Path dir;

    @Test
    void flagsBeatEnvironmentWhichBeatsTheFileWhichBeatsDefaults() throws Exception {
        Path yaml = Files.writeString(dir.resolve("arbor.yaml"), """
                port: 6000
                data-dir: /srv/arbor
                limits:
                  max-contexts: 7
                  max-chunk-bytes: 65536
                """);
        ConfigLoader loader = new ConfigLoader().file(yaml)
                .environment(Map.of("ARBOR_PORT", "7000", "ARBOR_LIMITS_MAX_CONTEXTS", "8", "UNRELATED", "x"))
                .flag("port", 8000);
        ServerConfig config = loader.load();
        assertEquals(8000, config.port());
        assertEquals(8, config.maxContexts());
        assertEquals(65536, config.maxChunkBytes());
        assertEquals(Path.of("/srv/arbor"), config.dataDir());
        assertEquals(ExecutionProvider.CPU, config.provider());
        assertEquals("flag --port", loader.sources().get("port"));
        assertEquals("environment ARBOR_LIMITS_MAX_CONTEXTS", loader.sources().get("limits.max-contexts"));
        assertTrue(loader.sources().get("data-dir").startsWith("file "));
        assertEquals("default", loader.sources().get("model"));
        assertEquals("8000", config.describe().get("port"));
    }

    @Test
    void attentionThreadsDefaultToTheProcessorsAvailable() {
        ServerConfig defaults = new ConfigLoader().load();
        assertEquals(Runtime.getRuntime().availableProcessors(), defaults.attentionParallelism());
        assertEquals("0", defaults.describe().get("attention-threads"));
        assertEquals(3, new ConfigLoader().environment(Map.of("ARBOR_ATTENTION_THREADS", "3")).load().attentionParallelism());
    }

    @Test
    void mistakesNameTheKeyAndWhereTheValueCameFrom() throws Exception {
        Path typo = Files.writeString(dir.resolve("typo.yaml"), "prot: 6000\n");
        var unknown = assertThrows(IllegalArgumentException.class, () -> new ConfigLoader().file(typo));
        assertTrue(unknown.getMessage().contains("unknown configuration key 'prot'"), unknown.getMessage());

        var malformed = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader().environment(Map.of("ARBOR_PORT", "fifty")).load());
        assertTrue(malformed.getMessage().contains("port = 'fifty' (from environment ARBOR_PORT)"), malformed.getMessage());

        var range = assertThrows(IllegalArgumentException.class, () -> new ConfigLoader().flag("port", 70000).load());
        assertTrue(range.getMessage().contains("port must be between 0 and 65535"), range.getMessage());

        var provider = assertThrows(IllegalArgumentException.class, () -> new ConfigLoader().flag("provider", "tpu").load());
        assertTrue(provider.getMessage().contains("expected 'cpu' or 'cuda'"), provider.getMessage());

        var threads = assertThrows(IllegalArgumentException.class, () -> new ConfigLoader().flag("attention-threads", -1).load());
        assertTrue(threads.getMessage().contains("attention-threads must be >= 0"), threads.getMessage());
    }
}
