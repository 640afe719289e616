package dev.arbor.client;

/**
 * A span of the context that answers a question.
 *
 * @param text the span as ingested
 * @param start offset of its first character in the context's text (UTF-16 code units)
 * @param end offset just after its last character
 * @param score relevance, higher is better
 */
public record RetrievedSpan(String text, long start, long end, float score) {}
