package dev.arbor.tree;

/**
 * The output of one query's tree attention.
 *
 * @param output the attention-weighted value vector
 * @param positions the retrieved positions (as in {@link SearchResult}), best score first
 * @param weights each retrieved position's softmax weight in {@code output}
 */
public record AttentionResult(float[] output, long[] positions, float[] weights) {}
