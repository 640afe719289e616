package dev.arbor.decoder;

/** How a request's self-attention reads the context: every cached key, or what the attention tree retrieves. */
public enum AttentionMode {
    /** Dense attention over all cached keys: the reference every tree-attention claim is checked against. */
    EXACT,
    /** Attention sinks + local window + top-k keys found through the attention tree + coarse summaries. */
    TREE
}
