package dev.arbor.server.context;

/** A retrieved span: its text, character offsets into the context's text, relevance and first token. */
public record ScoredSpan(String text, long start, long end, float score, long firstToken) {}
