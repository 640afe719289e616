package dev.arbor.tree;

import java.util.Arrays;

/** Which leaf holds each position: lets tree attention find the subtree a sink or window key is in. */
final class LeafIndex {
    private int[] leaves = new int[1024];

    void set(int position, int leaf) {
        if (position >= leaves.length) {
            leaves = Arrays.copyOf(leaves, Math.max(position + 1, leaves.length + (leaves.length >> 1)));
        }
        leaves[position] = leaf;
    }

    int leafOf(int position) {
        return leaves[position];
    }

    long bytes() {
        return (long) leaves.length * Integer.BYTES;
    }
}
