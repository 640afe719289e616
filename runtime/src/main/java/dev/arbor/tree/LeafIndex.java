package dev.arbor.tree;

import java.util.Arrays;

/**
 * Which leaf holds each position: lets tree attention find the subtree a sink or window key is in.
 * Stored in pages of {@value #PAGE} positions, so it takes 4 bytes per key plus at most one page,
 * where one growing array would hold up to half as much again unused.
 */
final class LeafIndex {
    private static final int PAGE_BITS = 12;
    private static final int PAGE = 1 << PAGE_BITS;
    private int[][] pages = new int[16][];

    void set(int position, int leaf) {
        int page = position >>> PAGE_BITS;
        if (page >= pages.length) {
            pages = Arrays.copyOf(pages, Math.max(page + 1, pages.length * 2));
        }
        if (pages[page] == null) {
            pages[page] = new int[PAGE];
        }
        pages[page][position & (PAGE - 1)] = leaf;
    }

    int leafOf(int position) {
        return pages[position >>> PAGE_BITS][position & (PAGE - 1)];
    }

    long bytes() {
        long bytes = 16 + (long) pages.length * 8;
        for (int[] page : pages) {
            bytes += page == null ? 0 : 16 + (long) PAGE * Integer.BYTES;
        }
        return bytes;
    }
}
