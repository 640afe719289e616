package dev.arbor.retrieval;

/**
 * A passage of a document returned for a question.
 *
 * @param text the passage as it appears in the document
 * @param start index of its first character in the document (UTF-16 units, from 0)
 * @param end index one past its last character
 * @param score cosine similarity between the question and the passage, in [-1, 1]
 */
public record Span(String text, long start, long end, double score) {}
