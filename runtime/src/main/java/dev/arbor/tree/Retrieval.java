package dev.arbor.tree;

import java.util.Arrays;

/**
 * What one query's descent of the tree touched: the leaves it scanned (every key in them scored
 * exactly), the subtrees it pruned (represented only by their summaries), and the top-k so far.
 * Scanned leaves and pruned subtrees together partition the tree, which is what lets tree attention
 * account for every key exactly once.
 */
final class Retrieval {
    final TopK topK;
    int[] scannedPositions = new int[256];
    float[] scannedScores = new float[256];
    /** Whether a scanned score is exact (from the store) or approximate (from the leaf codes). */
    boolean[] scannedExact = new boolean[256];
    int scannedCount;
    int[] scannedLeaves = new int[16];
    int scannedLeafCount;
    int[] prunedNodes = new int[16];
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

    void addScannedLeaf(int leaf) {
        if (scannedLeafCount == scannedLeaves.length) {
            scannedLeaves = Arrays.copyOf(scannedLeaves, scannedLeafCount * 2);
        }
        scannedLeaves[scannedLeafCount++] = leaf;
    }

    void addPruned(int node) {
        if (prunedCount == prunedNodes.length) {
            prunedNodes = Arrays.copyOf(prunedNodes, prunedCount * 2);
        }
        prunedNodes[prunedCount++] = node;
    }
}
