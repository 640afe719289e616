package dev.arbor.tree;

/**
 * Keys and values attended finely although they sit inside a summarised subtree (sinks and window
 * positions in a pruned subtree, top-k keys in a scanned leaf): their sums are taken out of the
 * subtree's summary so that every key counts exactly once.
 */
final class FineKeys {
    final float[] keySum;
    final float[] keySquares;
    final float[] valueSum;
    int count;

    FineKeys(int keyDim, int valueDim) {
        this.keySum = new float[keyDim];
        this.keySquares = new float[keyDim];
        this.valueSum = new float[valueDim];
    }

    void add(float[] key, float[] value) {
        count++;
        for (int d = 0; d < key.length; d++) {
            keySum[d] += key[d];
            keySquares[d] += key[d] * key[d];
        }
        for (int d = 0; d < value.length; d++) {
            valueSum[d] += value[d];
        }
    }
}
