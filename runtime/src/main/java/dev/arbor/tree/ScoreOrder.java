package dev.arbor.tree;

/**
 * A score and an index packed into one long whose ascending order is best score first, lower index
 * first on ties: the bits of −score, made signed-comparable, in the high word and the index in the low
 * word. Ranking nodes or keys then takes one primitive sort, or a heap of longs, instead of comparing
 * pairs.
 */
final class ScoreOrder {
    private ScoreOrder() {
    }

    /** The key of {@code score} at {@code index} (a non-negative int). */
    static long key(float score, int index) {
        int bits = Float.floatToIntBits(-score);
        bits ^= (bits >> 31) & 0x7fffffff;
        return ((long) bits << 32) | index;
    }

    /** The index a {@link #key} holds. */
    static int index(long key) {
        return (int) key;
    }

    /** The score a {@link #key} holds. */
    static float score(long key) {
        int bits = (int) (key >>> 32);
        return -Float.intBitsToFloat(bits ^ ((bits >> 31) & 0x7fffffff));
    }
}
