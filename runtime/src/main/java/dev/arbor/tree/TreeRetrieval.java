package dev.arbor.tree;

import java.util.List;

/**
 * What tree attention reads for one query, without the attention itself: the positions attended finely
 * (the top-k, the sinks and the window) and summaries of everything else: one per pruned subtree and one
 * per scanned leaf, each with the fine positions inside it taken out. Fine positions and summaries
 * together count every key exactly once, so attention over them (e.g. {@code ai.arbor.RetrievedAttention})
 * is full attention when k reaches the number of keys.
 *
 * @param positions store positions attended finely, each once
 * @param summaries the remaining keys of the scanned leaves and the pruned subtrees
 */
public record TreeRetrieval(int[] positions, List<Summary> summaries) {
    public TreeRetrieval {
        summaries = List.copyOf(summaries);
    }

    /**
     * A subtree's keys outside the fine positions, as one coarse term.
     *
     * @param meanKey the key each of its keys counts as: for a pruned subtree their mean; for a scanned
     *     leaf's remainder their mean moved along the query until {@code count · exp(scale · q·meanKey)}
     *     is their softmax mass by the scan's scores (so it belongs to this query)
     * @param valueSum the sum of its values
     * @param count how many keys it stands for (at least one)
     */
    public record Summary(float[] meanKey, float[] valueSum, int count) {}
}
