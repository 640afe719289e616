package dev.arbor.tree;

import java.util.Arrays;
import java.util.BitSet;

/**
 * The nodes of one attention tree in flat arrays indexed by node id. Leaves (level 0) list positions
 * into the KV store, internal nodes list child ids. Every node summarises its subtree: key count,
 * key sum (the mean key is sum / count), per-dimension sum of squared keys (so the spread of q·k in
 * the subtree can be estimated), value sum, and the per-dimension box {@code [lower, upper]} holding
 * every key, which bounds q·k from above for any query. A node's member array follows its fill (leaves
 * grow theirs in small steps), not its capacity.
 */
final class TreeNodes {
    final int keyDim;
    final int valueDim;
    int count;
    int root = -1;
    int[] parent = new int[16];
    int[] level = new int[16];
    int[] keyCount = new int[16];
    int[] memberCount = new int[16];
    int[][] members = new int[16][];
    float[] keySum;
    float[] keySquares;
    float[] valueSum;
    float[] lower;
    float[] upper;
    /**
     * Per node, {@code 2 · keyDim} bytes: the mean key then the per-dimension standard deviation of the
     * keys, each as int8 levels of a per-node scale ({@link #sketchScales}, two floats per node). The
     * beam ranks nodes from this sketch: a quarter of the bytes of the fp32 sums it summarises, and
     * ranking needs no more precision.
     */
    byte[] sketches;
    float[] sketchScales;

    TreeNodes(int keyDim, int valueDim) {
        this.keyDim = keyDim;
        this.valueDim = valueDim;
        this.keySum = new float[16 * keyDim];
        this.keySquares = new float[16 * keyDim];
        this.valueSum = new float[16 * valueDim];
        this.lower = new float[16 * keyDim];
        this.upper = new float[16 * keyDim];
        this.sketches = new byte[16 * 2 * keyDim];
        this.sketchScales = new float[16 * 2];
    }

    int newNode(int nodeLevel, int capacity) {
        if (count == parent.length) {
            grow();
        }
        int node = count++;
        parent[node] = -1;
        level[node] = nodeLevel;
        members[node] = new int[capacity];
        clearSummary(node);
        return node;
    }

    void clearSummary(int node) {
        keyCount[node] = 0;
        Arrays.fill(keySum, node * keyDim, (node + 1) * keyDim, 0f);
        Arrays.fill(keySquares, node * keyDim, (node + 1) * keyDim, 0f);
        Arrays.fill(valueSum, node * valueDim, (node + 1) * valueDim, 0f);
        Arrays.fill(lower, node * keyDim, (node + 1) * keyDim, Float.POSITIVE_INFINITY);
        Arrays.fill(upper, node * keyDim, (node + 1) * keyDim, Float.NEGATIVE_INFINITY);
        Arrays.fill(sketches, node * 2 * keyDim, (node + 1) * 2 * keyDim, (byte) 0);
        sketchScales[2 * node] = 0;
        sketchScales[2 * node + 1] = 0;
    }

    /** Adds a key to the node's summary; its sketch follows at {@link #refreshSketch}. */
    void addKey(int node, float[] key, int keyOffset, float[] value) {
        keyCount[node]++;
        Dot.accumulate(key, keyOffset, keySum, keySquares, lower, upper, node * keyDim, keyDim);
        Dot.add(value, 0, valueSum, node * valueDim, valueDim);
    }

    void addSummary(int node, int child) {
        keyCount[node] += keyCount[child];
        int k = node * keyDim;
        int c = child * keyDim;
        for (int d = 0; d < keyDim; d++) {
            keySum[k + d] += keySum[c + d];
            keySquares[k + d] += keySquares[c + d];
            lower[k + d] = Math.min(lower[k + d], lower[c + d]);
            upper[k + d] = Math.max(upper[k + d], upper[c + d]);
        }
        int v = node * valueDim;
        int cv = child * valueDim;
        for (int d = 0; d < valueDim; d++) {
            valueSum[v + d] += valueSum[cv + d];
        }
        refreshSketch(node);
    }

    /** Rewrites the node's sketch from its sums: after {@link #addKey}s, before the next search. */
    void refreshSketch(int node) {
        Dot.sketch(keySum, keySquares, node * keyDim, keyCount[node], keyDim, sketches, node * 2 * keyDim,
                sketchScales, 2 * node);
    }

    /** Appends a member, growing the node's member array in steps of {@link LeafCodes#GROWTH} when full. */
    void addMember(int node, int member) {
        if (memberCount[node] == members[node].length) {
            members[node] = Arrays.copyOf(members[node], memberCount[node] + LeafCodes.GROWTH);
        }
        members[node][memberCount[node]++] = member;
    }

    /** Empties a node's member list, keeping room for {@code capacity} members. */
    void clearMembers(int node, int capacity) {
        memberCount[node] = 0;
        members[node] = new int[capacity];
    }

    boolean isLeaf(int node) {
        return level[node] == 0;
    }

    /**
     * Mean and standard deviation of q·k over the node's keys (from its sketch) into means[i] and
     * spreads[i]. The beam ranks subtrees by mean + optimism · spread: a wide cluster whose mean scores
     * a little lower can hold better keys than a tight one; ranking by mean alone misses them.
     */
    void moments(float[] query, int node, float[] means, float[] spreads, int i) {
        Dot.sketchMoments(query, sketches, node * 2 * keyDim, keyDim, sketchScales, 2 * node, means, spreads, i);
    }

    /** The mean of q·k over the subtree's keys. */
    float meanScore(float[] query, int node) {
        return Dot.dot(query, 0, keySum, node * keyDim, keyDim) / keyCount[node];
    }

    /** Var(q·k) over the subtree's keys, dimensions taken as independent. */
    float scoreVariance(float[] query, int node) {
        return scoreVariance(query, keySum, keySquares, node * keyDim, keyCount[node]);
    }

    /** Var(q·k) over a set of n keys, from their sums and sums of squares, dimensions taken as independent. */
    float scoreVariance(float[] query, float[] sums, float[] squares, int offset, int n) {
        return Dot.scoreVariance(query, sums, squares, offset, n, keyDim);
    }

    /** The first {@code count} of {@code nodeIds} as a set of node ids. */
    BitSet set(int[] nodeIds, int count) {
        BitSet set = new BitSet(this.count);
        for (int i = 0; i < count; i++) {
            set.set(nodeIds[i]);
        }
        return set;
    }

    /** The node of {@code among} that holds {@code leaf}: the leaf itself or its nearest such ancestor. */
    int holder(int leaf, BitSet among) {
        int node = leaf;
        while (!among.get(node)) {
            node = parent[node];
        }
        return node;
    }

    /** An upper bound of q·k over every key in the subtree; prunes nodes in exact search. */
    float bound(float[] query, int node) {
        return Dot.boxBound(query, lower, upper, node * keyDim, keyDim);
    }

    /** Heap and array bytes the nodes take, for the memory-per-key figure. */
    long bytes() {
        long bytes = (long) parent.length * 4 * 4 + (long) members.length * 8
                + (long) (keySum.length + keySquares.length + valueSum.length + lower.length + upper.length) * 4
                + sketches.length + (long) sketchScales.length * 4;
        for (int node = 0; node < count; node++) {
            bytes += 16 + (long) members[node].length * 4;
        }
        return bytes;
    }

    /** Grows every per-node array by a quarter: node summaries are most of the tree's bytes, so little sits unused. */
    private void grow() {
        int capacity = parent.length + Math.max(16, parent.length >> 2);
        parent = Arrays.copyOf(parent, capacity);
        level = Arrays.copyOf(level, capacity);
        keyCount = Arrays.copyOf(keyCount, capacity);
        memberCount = Arrays.copyOf(memberCount, capacity);
        members = Arrays.copyOf(members, capacity);
        keySum = Arrays.copyOf(keySum, capacity * keyDim);
        keySquares = Arrays.copyOf(keySquares, capacity * keyDim);
        valueSum = Arrays.copyOf(valueSum, capacity * valueDim);
        lower = Arrays.copyOf(lower, capacity * keyDim);
        upper = Arrays.copyOf(upper, capacity * keyDim);
        sketches = Arrays.copyOf(sketches, capacity * 2 * keyDim);
        sketchScales = Arrays.copyOf(sketchScales, capacity * 2);
    }
}
