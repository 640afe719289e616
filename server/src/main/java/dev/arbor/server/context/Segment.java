package dev.arbor.server.context;

/**
 * A piece of ingested text that becomes one retrievable span.
 *
 * @param start offset of the first character in the context's text (UTF-16 code units)
 * @param text the characters, exactly as ingested
 */
record Segment(long start, String text) {
    long end() {
        return start + text.length();
    }
}
