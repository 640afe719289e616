package dev.arbor.tree;

import java.util.Arrays;

/**
 * What one query's descent of the tree touched: the leaves it scanned (every key in them scored,
 * exactly or from its code), the subtrees it pruned (represented only by their summaries, with the
 * mean and variance of q·k the beam ranked them by), and the top-k so far. Scanned leaves and pruned
 * subtrees together partition the tree, which is what lets tree attention account for every key
 * exactly once. A scanned leaf's keys are contiguous in the scanned arrays, ending at its
 * {@link #scannedLeafEnds} entry, so attention can fold them per leaf without looking leaves up.
 */
final class Retrieval {
    final TopK topK;
    int[] scannedPositions = new int[256];
    float[] scannedScores = new float[256];
    /** Whether a scanned score is exact (from the store) or approximate (from the leaf codes). */
    boolean[] scannedExact = new boolean[256];
    int scannedCount;
    int[] scannedLeaves = new int[16];
    /** One past the index of each scanned leaf's last key in the scanned arrays. */
    int[] scannedLeafEnds = new int[16];
    int scannedLeafCount;
    int[] prunedNodes = new int[16];
    /**
     * Each pruned subtree's parent, a node the search descended through: attention adds a light subtree
     * with its parent's mean value ({@link LightSubtrees}), and the search has the parent at hand where
     * the node arrays' parent links would be one more cold read per subtree.
     */
    int[] prunedParents = new int[16];
    /** Mean of q·k over each pruned subtree, or NaN where the search did not compute it. */
    float[] prunedMeans = new float[16];
    /** Var(q·k) over each pruned subtree, or NaN where the search did not compute it. */
    float[] prunedVariances = new float[16];
    int prunedCount;

    Retrieval(int k) {
        this.topK = new TopK(k);
    }

    void addScanned(int position, float score) {
        addApproximate(position, score);
        rescore(scannedCount - 1, score);
    }

    /** A scanned key scored from its code: it enters the top-k only once {@link #rescore}d. */
    void addApproximate(int position, float score) {
        if (scannedCount == scannedPositions.length) {
            scannedPositions = Arrays.copyOf(scannedPositions, scannedCount * 2);
            scannedScores = Arrays.copyOf(scannedScores, scannedCount * 2);
            scannedExact = Arrays.copyOf(scannedExact, scannedCount * 2);
        }
        scannedPositions[scannedCount] = position;
        scannedExact[scannedCount] = false;
        scannedScores[scannedCount++] = score;
    }

    /** Replaces the i-th scanned key's score by its exact score, and offers it to the top-k. */
    void rescore(int i, float score) {
        scannedScores[i] = score;
        scannedExact[i] = true;
        topK.offer(score, scannedPositions[i]);
    }

    /** Closes a scanned leaf: its keys are the ones added since the previous leaf was closed. */
    void addScannedLeaf(int leaf) {
        if (scannedLeafCount == scannedLeaves.length) {
            scannedLeaves = Arrays.copyOf(scannedLeaves, scannedLeafCount * 2);
            scannedLeafEnds = Arrays.copyOf(scannedLeafEnds, scannedLeafCount * 2);
        }
        scannedLeafEnds[scannedLeafCount] = scannedCount;
        scannedLeaves[scannedLeafCount++] = leaf;
    }

    /** A subtree pruned without its score statistics (exact search prunes on box bounds alone). */
    void addPruned(int node, int parent) {
        addPruned(node, parent, Float.NaN, Float.NaN);
    }

    void addPruned(int node, int parent, float meanScore, float variance) {
        if (prunedCount == prunedNodes.length) {
            prunedNodes = Arrays.copyOf(prunedNodes, prunedCount * 2);
            prunedParents = Arrays.copyOf(prunedParents, prunedCount * 2);
            prunedMeans = Arrays.copyOf(prunedMeans, prunedCount * 2);
            prunedVariances = Arrays.copyOf(prunedVariances, prunedCount * 2);
        }
        prunedNodes[prunedCount] = node;
        prunedParents[prunedCount] = parent;
        prunedMeans[prunedCount] = meanScore;
        prunedVariances[prunedCount++] = variance;
    }

    /** Keeps only the pruned subtrees whose flag is false, in order (the others were refined). */
    void removePruned(boolean[] removed) {
        int kept = 0;
        for (int i = 0; i < prunedCount; i++) {
            if (!removed[i]) {
                prunedNodes[kept] = prunedNodes[i];
                prunedParents[kept] = prunedParents[i];
                prunedMeans[kept] = prunedMeans[i];
                prunedVariances[kept++] = prunedVariances[i];
            }
        }
        prunedCount = kept;
    }
}
