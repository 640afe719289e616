package dev.arbor.server.context;

/**
 * What identifies a context and how it was created; persisted as {@code context.json} in its folder.
 */
public record ContextDescriptor(String tenant, String name, String model, AttentionConfig attention,
        long createdUnixMillis) {}
