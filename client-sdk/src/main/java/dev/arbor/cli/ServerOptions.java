package dev.arbor.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.arbor.client.ArborClient;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Options every client command shares: where the server is, and how to print. */
public final class ServerOptions {
    static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    @Option(names = "--target", defaultValue = "localhost:50051", description = "Server address host:port (default: ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--json", description = "Print machine-readable JSON.")
    boolean json;

    @Option(names = "--tenant", defaultValue = "default", description = "Tenant owning the contexts (default: ${DEFAULT-VALUE}).")
    String tenant;

    @Option(names = "--deadline", defaultValue = "60", description = "Seconds each request may take (default: ${DEFAULT-VALUE}).")
    long deadlineSeconds;

    ArborClient connect() {
        return ArborClient.builder().target(target).tenant(tenant).deadline(Duration.ofSeconds(deadlineSeconds)).build();
    }

    String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
