package dev.arbor.tree;

import java.util.List;

/**
 * What tree attention reads for one query, without the attention itself: the positions attended finely
 * (every key of the scanned leaves, the sinks and the window) and one summary per pruned subtree, with
 * those fine positions taken out of it. Fine positions and summaries together count every key exactly
 * once, so attention over them (e.g. {@code ai.arbor.RetrievedAttention}) is full attention when nothing
 * was pruned.
 *
 * @param positions store positions attended finely, each once
 * @param summaries the pruned subtrees' remaining keys
 */
public record TreeRetrieval(int[] positions, List<Summary> summaries) {
    public TreeRetrieval {
        summaries = List.copyOf(summaries);
    }

    /**
     * A pruned subtree as one coarse term.
     *
     * @param meanKey the mean of its keys
     * @param valueSum the sum of its values
     * @param count how many keys it stands for (at least one)
     */
    public record Summary(float[] meanKey, float[] valueSum, int count) {}
}
