package dev.arbor.tree;

import dev.arbor.store.HeadStore;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The attention tree of one (layer, key/value head): an index over the keys of a {@link HeadStore},
 * built while keys arrive, that answers top-k inner-product searches and tree attention in about
 * log N node visits.
 *
 * <p><b>Structure.</b> A content-clustered B-tree in the manner of a BIRCH CF-tree. A new key is
 * routed from the root to the child whose mean key is nearest, and appended to that leaf; the
 * summaries on its path (count, key sum, value sum, per-dimension min/max box) are updated: O(log N).
 * A full leaf splits in two by 2-means over its keys, a full internal node by 2-means over its
 * children's means, and a split root grows a new root, so all leaves stay at the same depth and no
 * insert ever rebuilds more than the one node it splits (amortised O(1) split work per key). Leaves
 * hold int positions into the store and a 4-bit code of each key in the same order ({@link LeafCodes}),
 * rewritten with the leaf when it splits, which approximate search scans instead of the store.
 *
 * <p><b>Why content clusters, not position blocks.</b> Position-ordered blocks would make insertion
 * a plain append, but a block of consecutive tokens mixes every kind of key, so its mean says little
 * about any query and its box spans almost the whole space: a beam over such blocks must scan most of
 * them to find the top-k. Clustering by content makes a leaf's mean a good predictor of its best
 * q·k, which is what lets a beam of a few dozen leaves reach the top-k; the price is an O(log N ×
 * fanout × dim) descent per insert instead of O(dim). Measured: on 65,536 synthetic keys, the best 64
 * position blocks (by the same ranking) hold 33% of the top-64 and the best 512 blocks 85%, while 64
 * content leaves hold 96% (see the package documentation and the README).
 *
 * <p><b>Threads.</b> Searches and attention calls may run concurrently with each other; an append
 * must not run concurrently with anything on the same tree.
 */
public final class AttentionTree {
    private final HeadStore store;
    private final TreeSettings settings;
    private final TreeNodes nodes;
    private final LeafIndex leafIndex = new LeafIndex();
    private final LeafCodes codes;
    private final LeafRows leafRows;
    private final TreeSearcher searcher;
    private final TreeAttention attention;
    private final TreeRetriever retriever;
    private final GroupRetriever groupRetriever;
    private final int keyDim;
    private final int valueDim;
    /** Whether splits fit {@link PrincipalDirections} to the new nodes (see {@link PrincipalDirections#pay}). */
    private final boolean fitsDirections;
    /**
     * Whether appends left sketches stale ({@link TreeNodes#markStale}); the first search after them
     * rewrites them, under a lock, so searches running together see them written once and whole.
     */
    private volatile boolean sketchesStale;
    /**
     * Scratch of a leaf's refit and split, each {@code leafCapacity} rows: the keys read from the
     * store, then the keys and values of the two halves. Fresh arrays for each were a third of what
     * inserts allocated (MiniLM keys: about 14 of 35 KB per key, a young collection every half second).
     */
    private final float[] leafKeys;
    private final float[][] sideKeys;
    private final float[][] sideValues;

    private AttentionTree(Builder builder) {
        this.store = builder.store;
        this.settings = builder.settings;
        this.keyDim = store.keyDim();
        this.valueDim = store.valueDim();
        this.fitsDirections = PrincipalDirections.pay(keyDim);
        this.nodes = new TreeNodes(keyDim, valueDim, fitsDirections ? PrincipalDirections.COUNT : 0);
        this.codes = new LeafCodes(keyDim);
        this.leafRows = new LeafRows(keyDim, valueDim);
        int capacity = settings.leafCapacity();
        this.leafKeys = new float[capacity * keyDim];
        this.sideKeys = new float[2][capacity * keyDim];
        this.sideValues = new float[2][capacity * valueDim];
        this.searcher = new TreeSearcher(nodes, store, codes, settings.leafCapacity());
        this.attention = new TreeAttention(nodes, store, searcher, leafIndex, settings.leafCapacity());
        this.retriever = new TreeRetriever(nodes, store, searcher, leafIndex);
        this.groupRetriever = new GroupRetriever(nodes, store, searcher, leafIndex, leafRows, retriever);
        float[] key = new float[keyDim];
        float[] value = new float[valueDim];
        for (long position = 0; position < store.size(); position++) {
            store.readKey(position, key, 0);
            store.readValue(position, value, 0);
            insert(checkedPosition(position), key, value);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Appends a key and its value to the store and the tree; returns the key's position. */
    public long append(float[] key, float[] value) {
        checkVector("key", key, keyDim);
        checkVector("value", value, valueDim);
        long position = store.append(key, value);
        insert(checkedPosition(position), key, value);
        return position;
    }

    /** The top-k keys by q·k, plus the sinks and the local window, best first. */
    public SearchResult search(float[] query, SearchParams params) {
        checkVector("query", query, keyDim);
        checkParams(params);
        refreshSketches();
        return searcher.result(query, searcher.retrieve(query, params), params);
    }

    /**
     * Softmax attention of {@code query} with logits {@code scale · q·k} over the retrieved keys, the
     * sinks and the window, plus the pruned subtrees' summaries. Equals full attention when k ≥ size.
     */
    public AttentionResult attend(float[] query, float scale, SearchParams params) {
        checkVector("query", query, keyDim);
        checkParams(params);
        checkScale(scale);
        refreshSketches();
        return attention.attend(query, scale, params);
    }

    /**
     * What attention with logits {@code scale · q·k} elsewhere (an ONNX graph) reads for {@code query}:
     * the top-k, sinks and window finely, every other key in a summary (see {@link TreeRetrieval}).
     * The scale sets the summaries' effective keys, so pass the one the attention will use.
     */
    public TreeRetrieval retrieve(float[] query, float scale, SearchParams params) {
        checkVector("query", query, keyDim);
        checkParams(params);
        checkScale(scale);
        refreshSketches();
        return retriever.retrieve(query, scale, params);
    }

    /**
     * {@link #retrieve(float[], float, SearchParams)} for {@code count} queries that share this tree (the
     * query heads of one key/value head), read from {@code queries[offset ..]} one after another, into
     * {@code into} (overwritten). Approximate mode runs one beam for the group and scores the scanned
     * leaves exactly (see {@link GroupRetriever}); exact mode searches each query alone.
     */
    public void retrieve(float[] queries, int offset, int count, float scale, SearchParams params,
            GroupRetrieval into) {
        if (queries == null || into == null) {
            throw new IllegalArgumentException("queries and the retrieval to fill must be given");
        }
        if (count < 1 || offset < 0 || offset + (long) count * keyDim > queries.length) {
            throw new IllegalArgumentException(count + " queries of dimension " + keyDim + " from offset " + offset
                    + " do not fit in an array of " + queries.length + " floats");
        }
        if (into.keyDim != keyDim || into.valueDim != valueDim) {
            throw new IllegalArgumentException("the retrieval holds keys of dim " + into.keyDim + " and values of dim "
                    + into.valueDim + ", but this tree's are " + keyDim + " and " + valueDim);
        }
        for (int i = offset; i < offset + count * keyDim; i++) {
            if (!Float.isFinite(queries[i])) {
                throw new IllegalArgumentException("query " + (i - offset) / keyDim + " has a non-finite element "
                        + queries[i] + "; NaN and infinity have no place in attention");
            }
        }
        checkParams(params);
        checkScale(scale);
        refreshSketches();
        groupRetriever.retrieve(queries, offset, count, scale, params, into);
    }

    public long size() {
        return store.size();
    }

    public int keyDim() {
        return keyDim;
    }

    public int valueDim() {
        return valueDim;
    }

    public HeadStore store() {
        return store;
    }

    public TreeSettings settings() {
        return settings;
    }

    /** Bytes the tree itself takes (nodes, leaf key codes, the position-to-leaf index), excluding the store. */
    public long treeBytes() {
        return nodes.bytes() + codes.bytes() + leafRows.bytes() + leafIndex.bytes();
    }

    // Read access for graphs that walk the tree in ONNX Runtime.

    /** The nodes themselves, for tests in this package that check their summaries. */
    TreeNodes nodes() {
        return nodes;
    }

    /** Number of nodes; node ids are {@code 0 .. nodeCount() - 1}. */
    public int nodeCount() {
        return nodes.count;
    }

    /** The root's node id, or -1 while the tree is empty. */
    public int root() {
        return nodes.root;
    }

    /** 0 for a leaf; a node's children are one level below it. */
    public int level(int node) {
        checkNode(node);
        return nodes.level[node];
    }

    public int keyCount(int node) {
        checkNode(node);
        return nodes.keyCount[node];
    }

    /** An internal node's child ids. */
    public int[] children(int node) {
        checkNode(node);
        if (nodes.isLeaf(node)) {
            throw new IllegalArgumentException("node " + node + " is a leaf: it has positions, not children");
        }
        return Arrays.copyOf(nodes.members[node], nodes.memberCount[node]);
    }

    /** A leaf's store positions, in the order they were appended to it. */
    public long[] leafPositions(int node) {
        checkNode(node);
        if (!nodes.isLeaf(node)) {
            throw new IllegalArgumentException("node " + node + " is internal: it has children, not positions");
        }
        long[] positions = new long[nodes.memberCount[node]];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = nodes.members[node][i];
        }
        return positions;
    }

    /** Every node's mean key as a direct little-endian buffer {@code [nodeCount, keyDim]} (a snapshot). */
    public FloatBuffer meanKeys() {
        FloatBuffer out = directFloats(nodes.count * keyDim);
        for (int node = 0; node < nodes.count; node++) {
            for (int d = 0; d < keyDim; d++) {
                out.put(nodes.keySum[node * keyDim + d] / nodes.keyCount[node]);
            }
        }
        return out.flip();
    }

    /** Every node's per-dimension key minimum, {@code [nodeCount, keyDim]} (a snapshot). */
    public FloatBuffer lowerBounds() {
        return directFloats(nodes.count * keyDim).put(nodes.lower, 0, nodes.count * keyDim).flip();
    }

    /** Every node's per-dimension key maximum, {@code [nodeCount, keyDim]} (a snapshot). */
    public FloatBuffer upperBounds() {
        return directFloats(nodes.count * keyDim).put(nodes.upper, 0, nodes.count * keyDim).flip();
    }

    /**
     * Every node's radius around its mean key, {@code [nodeCount]} (a snapshot): the distance from the
     * mean to the farthest corner of the node's box, so no key of the subtree is farther. With it,
     * {@code q·mean + |q|·radius} bounds q·k over the subtree (what a bounded ONNX search step takes).
     */
    public FloatBuffer radii() {
        FloatBuffer out = directFloats(nodes.count);
        for (int node = 0; node < nodes.count; node++) {
            double squared = 0;
            for (int d = 0; d < keyDim; d++) {
                int i = node * keyDim + d;
                float mean = nodes.keySum[i] / nodes.keyCount[node];
                double reach = Math.max(nodes.upper[i] - mean, mean - nodes.lower[i]);
                squared += reach * reach;
            }
            out.put((float) Math.sqrt(squared));
        }
        return out.flip();
    }

    /** Every node's sum of values, {@code [nodeCount, valueDim]} (a snapshot). */
    public FloatBuffer valueSums() {
        return directFloats(nodes.count * valueDim).put(nodes.valueSum, 0, nodes.count * valueDim).flip();
    }

    /** Rewrites the sketches appends left stale, once, before searches read them. */
    private void refreshSketches() {
        if (!sketchesStale) {
            return;
        }
        synchronized (nodes) {
            if (sketchesStale) {
                nodes.refreshStaleSketches();
                sketchesStale = false;
            }
        }
    }

    private void insert(int position, float[] key, float[] value) {
        if (nodes.root < 0) {
            nodes.root = nodes.newNode(0, LeafCodes.GROWTH);
        }
        int node = nodes.root;
        while (!nodes.isLeaf(node)) {
            nodes.addKey(node, key, 0, value);
            nodes.markStale(node);
            node = nearestChild(node, key);
        }
        nodes.addKey(node, key, 0, value);
        nodes.markStale(node);
        nodes.addMember(node, position);
        codes.append(node, nodes.memberCount[node] - 1, key, 0);
        leafRows.append(node, nodes.memberCount[node] - 1, key, value);
        leafIndex.set(position, node);
        if (nodes.memberCount[node] == settings.leafCapacity()) {
            splitLeaf(node);
        } else if (fitsDirections && refits(nodes.memberCount[node], settings.leafCapacity())) {
            refitLeaf(node);
        }
        // Read first: a volatile write on every insert would cost a store fence each.
        if (!sketchesStale) {
            sketchesStale = true;
        }
    }

    /**
     * Whether a node at this fill fits its directions again: a split leaves half-full nodes whose
     * directions follow the keys they had then, and the keys that arrive after it bend them. So from
     * half full on, every eighth of its capacity. MiniLM keys, 262,144, beam 56, recall@64: 0.889 with
     * the directions of the split alone, 0.907 fitted again at three quarters, 0.919 at every eighth
     * (subspace iteration on the Gram matrix makes a leaf's fit cost about one C·Cᵀ product).
     */
    private static boolean refits(int fill, int capacity) {
        int step = Math.max(1, capacity / 8);
        return fill > capacity / 2 && fill % step == 0;
    }

    /** Fits the leaf's directions to the keys it holds now. */
    private void refitLeaf(int leaf) {
        int count = nodes.memberCount[leaf];
        store.readKeys(nodes.members[leaf], count, leafKeys);
        nodes.fitDirections(leaf, leafKeys, count);
        nodes.markStale(leaf);
    }

    private int nearestChild(int node, float[] key) {
        int best = -1;
        float bestDistance = Float.POSITIVE_INFINITY;
        int[] children = nodes.members[node];
        for (int i = 0; i < nodes.memberCount[node]; i++) {
            int child = children[i];
            float distance = Dot.squaredDistance(key, 0, nodes.keySum, child * keyDim, 1f / nodes.keyCount[child],
                    keyDim);
            if (distance < bestDistance) {
                bestDistance = distance;
                best = child;
            }
        }
        return best;
    }

    private void splitLeaf(int leaf) {
        int count = nodes.memberCount[leaf];
        // The leaf's member array itself: clearMembers below gives the leaf a new one.
        int[] positions = nodes.members[leaf];
        float[] keys = leafKeys;
        store.readKeys(positions, count, keys);
        boolean[] right = TwoMeansSplit.split(keys, count, keyDim);
        int rightCount = 0;
        for (boolean r : right) {
            rightCount += r ? 1 : 0;
        }
        int sibling = nodes.newNode(0, roundUp(rightCount, LeafCodes.GROWTH));
        float[] valueSum = Arrays.copyOfRange(nodes.valueSum, leaf * valueDim, (leaf + 1) * valueDim);
        nodes.clearMembers(leaf, roundUp(count - rightCount, LeafCodes.GROWTH));
        nodes.clearSummary(leaf);
        float[] leftKeys = sideKeys[0];
        float[] rightKeys = sideKeys[1];
        float[] leftValues = sideValues[0];
        float[] rightValues = sideValues[1];
        // Values are random reads from the store (reading all of them took 2.0 of a split's 4.8 µs per
        // insert at dim 64), so the leaf's are read only where leaf rows copy them; otherwise its value
        // sum is its old one less the sibling's.
        boolean readsLeftValues = leafRows.kept();
        float[] value = new float[valueDim];
        float[] unread = new float[valueDim];
        for (int i = 0; i < count; i++) {
            int target = right[i] ? sibling : leaf;
            boolean reads = right[i] || readsLeftValues;
            if (reads) {
                store.readValue(positions[i], value, 0);
            }
            nodes.addKey(target, keys, i * keyDim, reads ? value : unread);
            float[] sideKeys = right[i] ? rightKeys : leftKeys;
            System.arraycopy(keys, i * keyDim, sideKeys, nodes.memberCount[target] * keyDim, keyDim);
            float[] sideValues = right[i] ? rightValues : leftValues;
            System.arraycopy(reads ? value : unread, 0, sideValues, nodes.memberCount[target] * valueDim, valueDim);
            nodes.addMember(target, positions[i]);
            leafIndex.set(positions[i], target);
        }
        if (!readsLeftValues) {
            nodes.setValueSum(leaf, valueSum, sibling);
        }
        if (fitsDirections) {
            nodes.fitDirections(leaf, leftKeys, count - rightCount);
            nodes.fitDirections(sibling, rightKeys, rightCount);
        }
        nodes.markStale(leaf);
        nodes.markStale(sibling);
        codes.rewrite(leaf, leftKeys, count - rightCount);
        codes.rewrite(sibling, rightKeys, rightCount);
        leafRows.rewrite(leaf, leftKeys, leftValues, count - rightCount);
        leafRows.rewrite(sibling, rightKeys, rightValues, rightCount);
        attachSibling(leaf, sibling);
    }

    private void splitInternal(int node) {
        int count = nodes.memberCount[node];
        int[] children = Arrays.copyOf(nodes.members[node], count);
        float[] means = new float[count * keyDim];
        for (int i = 0; i < count; i++) {
            float inverse = 1f / nodes.keyCount[children[i]];
            for (int d = 0; d < keyDim; d++) {
                means[i * keyDim + d] = nodes.keySum[children[i] * keyDim + d] * inverse;
            }
        }
        boolean[] right = TwoMeansSplit.split(means, count, keyDim);
        int sibling = nodes.newNode(nodes.level[node], settings.fanout());
        nodes.clearMembers(node, settings.fanout());
        nodes.clearSummary(node);
        for (int i = 0; i < count; i++) {
            int target = right[i] ? sibling : node;
            nodes.addSummary(target, children[i]);
            nodes.addMember(target, children[i]);
            nodes.parent[children[i]] = target;
        }
        for (int half : new int[] {node, sibling}) {
            if (fitsDirections) {
                nodes.fitDirectionsToChildren(half);
            }
            nodes.markStale(half);
        }
        attachSibling(node, sibling);
    }

    /** Hangs a node's new split-off sibling under their parent, splitting upwards or growing a root. */
    private void attachSibling(int node, int sibling) {
        int parent = nodes.parent[node];
        if (parent < 0) {
            int root = nodes.newNode(nodes.level[node] + 1, settings.fanout());
            for (int child : new int[] {node, sibling}) {
                nodes.addSummary(root, child);
                nodes.addMember(root, child);
                nodes.parent[child] = root;
            }
            if (fitsDirections) {
                nodes.fitDirectionsToChildren(root);
            }
            nodes.markStale(root);
            nodes.root = root;
            return;
        }
        nodes.addMember(parent, sibling);
        nodes.parent[sibling] = parent;
        if (nodes.memberCount[parent] == settings.fanout()) {
            splitInternal(parent);
        } else if (fitsDirections && refits(nodes.memberCount[parent], settings.fanout())) {
            nodes.fitDirectionsToChildren(parent);
            nodes.markStale(parent);
        }
    }

    private static int roundUp(int value, int multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    private static int checkedPosition(long position) {
        if (position > Integer.MAX_VALUE) {
            throw new IllegalStateException("an attention tree holds at most 2^31 - 1 keys per head");
        }
        return (int) position;
    }

    private static void checkVector(String what, float[] vector, int dim) {
        if (vector == null) {
            throw new IllegalArgumentException(what + " vector is null");
        }
        if (vector.length != dim) {
            throw new IllegalArgumentException(what + " has dimension " + vector.length + " but the tree's "
                    + what + "s have dimension " + dim);
        }
        for (int d = 0; d < dim; d++) {
            if (!Float.isFinite(vector[d])) {
                throw new IllegalArgumentException(what + " has a non-finite element " + vector[d] + " at index " + d
                        + "; NaN and infinity have no place in attention");
            }
        }
    }

    private static void checkScale(float scale) {
        if (!Float.isFinite(scale) || scale <= 0) {
            throw new IllegalArgumentException("attention scale must be a positive finite number, got " + scale);
        }
    }

    private static void checkParams(SearchParams params) {
        if (params == null) {
            throw new IllegalArgumentException("search parameters are null; use SearchParams.defaults()");
        }
    }

    private void checkNode(int node) {
        if (node < 0 || node >= nodes.count) {
            throw new IndexOutOfBoundsException("no node " + node + " in a tree of " + nodes.count + " nodes");
        }
    }

    private static FloatBuffer directFloats(int count) {
        return ByteBuffer.allocateDirect(count * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }

    /** Configures an {@link AttentionTree}; a {@link HeadStore} is required, settings default. */
    public static final class Builder {
        private HeadStore store;
        private TreeSettings settings = TreeSettings.defaults();
        private int keyDim;
        private int valueDim;

        private Builder() {}

        /** The store whose keys the tree indexes; keys already in it are inserted on build. */
        public Builder store(HeadStore store) {
            this.store = store;
            return this;
        }

        /** Expected key dimension, checked against the store's. */
        public Builder keyDim(int keyDim) {
            this.keyDim = keyDim;
            return this;
        }

        /** Expected value dimension, checked against the store's. */
        public Builder valueDim(int valueDim) {
            this.valueDim = valueDim;
            return this;
        }

        public Builder settings(TreeSettings settings) {
            this.settings = settings;
            return this;
        }

        public AttentionTree build() {
            if (store == null && keyDim > 0 && valueDim > 0) {
                store = HeadStore.builder().keyDim(keyDim).valueDim(valueDim).build();
            }
            if (store == null) {
                throw new IllegalArgumentException("an attention tree needs a store, or key and value dimensions");
            }
            if ((keyDim != 0 && keyDim != store.keyDim()) || (valueDim != 0 && valueDim != store.valueDim())) {
                throw new IllegalArgumentException("the tree was configured for keys of dim " + keyDim + " and values"
                        + " of dim " + valueDim + ", but its store holds " + store.keyDim() + " and "
                        + store.valueDim());
            }
            if (settings == null) {
                throw new IllegalArgumentException("tree settings are null; use TreeSettings.defaults()");
            }
            return new AttentionTree(this);
        }
    }
}
