package dev.arbor.retrieval;

/** Read access to a document's characters, for cutting out the text of retrieved spans. */
@FunctionalInterface
public interface DocumentText {
    /** Characters {@code [start, end)} of the document (UTF-16 indices). */
    String slice(long start, long end);
}
