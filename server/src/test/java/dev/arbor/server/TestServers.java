package dev.arbor.server;

import dev.arbor.server.config.ConfigLoader;
import dev.arbor.server.config.ServerConfig;
import java.nio.file.Path;

/** Servers on ephemeral loopback ports over a temporary data directory. */
public final class TestServers {
    private TestServers() {}

    public static ServerConfig config(Path dataDir) {
        return new ConfigLoader()
                .flag("port", 0)
                .flag("metrics-port", 0)
                .flag("data-dir", dataDir)
                .flag("shutdown-grace-seconds", 2)
                .load();
    }

    public static ArborServer start(Path dataDir) {
        return ArborServer.builder().config(config(dataDir)).build().start();
    }
}
