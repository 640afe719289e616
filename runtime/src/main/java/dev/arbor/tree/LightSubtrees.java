package dev.arbor.tree;

import java.util.Arrays;

/**
 * The light pruned subtrees of one attention call, which do not read their own value sums, summed per
 * parent: each parent then adds its light children's mass with its own mean value. A pruned subtree's
 * parent is a node the search descended through, a cluster around the query's neighbourhood, so its
 * mean value stands in for the subtree's far better than the whole tree's (see
 * {@link TreeAttention#LIGHT_SUBTREE}), and the light children of one parent share one read of its value sum.
 */
final class LightSubtrees {
    private int[] parents = new int[64];
    private double[] masses = new double[64];
    private int count;
    /** Open addressing from a parent to its index in {@link #parents}, -1 where free; at most half full. */
    private int[] slots = new int[128];

    LightSubtrees() {
        Arrays.fill(slots, -1);
    }

    /** Counts a light subtree's {@code mass} towards its {@code parent}. */
    void add(int parent, double mass) {
        int slot = slotOf(parent, slots);
        if (slots[slot] >= 0) {
            masses[slots[slot]] += mass;
            return;
        }
        if (count == parents.length) {
            parents = Arrays.copyOf(parents, count * 2);
            masses = Arrays.copyOf(masses, count * 2);
        }
        parents[count] = parent;
        masses[count] = mass;
        slots[slot] = count++;
        if (count * 2 > slots.length) {
            rehash();
        }
    }

    /**
     * Takes out the parents whose light children weigh less than {@code least} together, and returns
     * their mass: the slots are not kept up to date, so nothing is added after.
     */
    double removeLighterThan(double least) {
        double removed = 0;
        int kept = 0;
        for (int p = 0; p < count; p++) {
            if (masses[p] < least) {
                removed += masses[p];
            } else {
                parents[kept] = parents[p];
                masses[kept++] = masses[p];
            }
        }
        count = kept;
        return removed;
    }

    /** The distinct parents, in the order their first light child came. */
    int count() {
        return count;
    }

    /** The parents as node ids: the first {@link #count} entries. */
    int[] parents() {
        return parents;
    }

    int parent(int p) {
        return parents[p];
    }

    /** The summed mass of the {@code p}-th parent's light children. */
    double mass(int p) {
        return masses[p];
    }

    /** The slot of {@code parent} in {@code table}: where it is, or the free one where it would go. */
    private int slotOf(int parent, int[] table) {
        int mask = table.length - 1;
        int slot = (parent * 0x9E3779B9 >>> 16) & mask;
        while (table[slot] >= 0 && parents[table[slot]] != parent) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    private void rehash() {
        int[] larger = new int[slots.length * 2];
        Arrays.fill(larger, -1);
        for (int p = 0; p < count; p++) {
            larger[slotOf(parents[p], larger)] = p;
        }
        slots = larger;
    }
}
