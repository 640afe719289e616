package dev.arbor.tree;

import dev.arbor.store.HeadStore;
import java.util.Arrays;

/**
 * Maximum inner product search over an attention tree.
 *
 * <p>Exact mode is best-first branch and bound on the nodes' box bounds: it expands the node with
 * the highest bound until the k-th best score found beats every bound left (strictly, so that a key
 * tying the k-th score at a lower position is still found). Approximate mode keeps the {@code beam}
 * nodes per level with the highest promise (mean of q·k plus {@link #OPTIMISM} standard deviations)
 * and, at the leaf level, keeps {@link #CODED_LEAF_WIDENING} times as many leaves, scores their keys
 * from the int8 {@link LeafCodes} and rescores the best {@link #RERANK_FACTOR}·k exactly from the store;
 * it never touches more than {@code beam × fanout} nodes per level.
 *
 * <p>Both modes then merge in the sinks and the local window, scored exactly.
 */
final class TreeSearcher {
    /** Standard deviations of q·k added to a node's mean score when ranking the beam; see the README. */
    static final float OPTIMISM = 2f;

    private final TreeNodes nodes;
    /**
     * Approximate mode scores this many times {@code beam} leaves from their int8 codes: a code scan
     * reads 68 contiguous bytes per key where an exact scan gathers a 256-byte fp32 row from a
     * random store position, so the wider leaf beam costs about what the narrow exact one did.
     */
    static final int CODED_LEAF_WIDENING = 2;
    /** Approximate mode rescores this many times k of the best code-scored keys exactly. */
    static final int RERANK_FACTOR = 2;

    private final HeadStore store;
    private final LeafCodes codes;
    private final int leafCapacity;

    TreeSearcher(TreeNodes nodes, HeadStore store, LeafCodes codes, int leafCapacity) {
        this.nodes = nodes;
        this.store = store;
        this.codes = codes;
        this.leafCapacity = leafCapacity;
    }

    Retrieval retrieve(float[] query, SearchParams params) {
        Retrieval retrieval = new Retrieval(params.k());
        if (nodes.root < 0) {
            return retrieval;
        }
        float[] rows = new float[leafCapacity * nodes.keyDim];
        if (params.mode() == SearchMode.EXACT) {
            branchAndBound(query, retrieval, rows);
        } else {
            beam(query, params, retrieval, rows);
        }
        return retrieval;
    }

    SearchResult result(float[] query, Retrieval retrieval, SearchParams params) {
        float[] topScores = new float[retrieval.topK.size()];
        int[] top = retrieval.topK.drainPositions(topScores);
        int[] always = alwaysAttended(params);
        int[] positions = Arrays.copyOf(top, top.length + always.length);
        float[] scores = Arrays.copyOf(topScores, top.length + always.length);
        int count = top.length;
        int[] taken = top.clone();
        Arrays.sort(taken);
        float[] key = new float[nodes.keyDim];
        for (int position : always) {
            if (Arrays.binarySearch(taken, position) < 0) {
                store.readKey(position, key, 0);
                positions[count] = position;
                scores[count++] = Dot.dot(query, 0, key, 0, nodes.keyDim);
            }
        }
        return sorted(positions, scores, count);
    }

    /** The sink positions and the window positions, without duplicates, ascending. */
    int[] alwaysAttended(SearchParams params) {
        int size = (int) store.size();
        int sinkEnd = Math.min(params.sinks(), size);
        int windowStart = Math.max(sinkEnd, size - params.window());
        int[] positions = new int[sinkEnd + size - windowStart];
        int i = 0;
        for (int p = 0; p < sinkEnd; p++) {
            positions[i++] = p;
        }
        for (int p = windowStart; p < size; p++) {
            positions[i++] = p;
        }
        return positions;
    }

    private void branchAndBound(float[] query, Retrieval retrieval, float[] rows) {
        NodeQueue frontier = new NodeQueue();
        frontier.push(nodes.root, nodes.bound(query, nodes.root));
        while (!frontier.isEmpty()) {
            if (frontier.topBound() < retrieval.topK.threshold()) {
                for (int node : frontier.drain()) {
                    retrieval.addPruned(node);
                }
                return;
            }
            int node = frontier.pop();
            if (nodes.isLeaf(node)) {
                scan(query, node, retrieval, rows);
                continue;
            }
            int[] children = nodes.members[node];
            for (int i = 0; i < nodes.memberCount[node]; i++) {
                int child = children[i];
                float bound = nodes.bound(query, child);
                if (bound < retrieval.topK.threshold()) {
                    retrieval.addPruned(child);
                } else {
                    frontier.push(child, bound);
                }
            }
        }
    }

    private void beam(float[] query, SearchParams params, Retrieval retrieval, float[] rows) {
        int[] frontier = {nodes.root};
        boolean scanAll = store.size() <= params.k();
        while (!nodes.isLeaf(frontier[0])) {
            int candidates = 0;
            for (int node : frontier) {
                candidates += nodes.memberCount[node];
            }
            int[] children = new int[candidates];
            float[] scores = new float[candidates];
            // Kept for the pruned ones: tree attention estimates their mass from the same statistics.
            float[] means = new float[candidates];
            float[] variances = new float[candidates];
            int c = 0;
            for (int node : frontier) {
                for (int i = 0; i < nodes.memberCount[node]; i++) {
                    int child = nodes.members[node][i];
                    children[c] = child;
                    means[c] = nodes.meanScore(query, child);
                    variances[c] = nodes.scoreVariance(query, child);
                    scores[c] = means[c] + OPTIMISM * (float) Math.sqrt(variances[c]);
                    c++;
                }
            }
            int[] order = byScoreDescending(scores, candidates);
            int keep = scanAll ? candidates : Math.min(params.beam(), candidates);
            if (nodes.isLeaf(children[0])) {
                if (!scanAll) {
                    keep = Math.min(params.beam() * CODED_LEAF_WIDENING, candidates);
                }
                keep = leavesCovering(children, order, keep, params.k());
            }
            frontier = new int[keep];
            for (int rank = 0; rank < candidates; rank++) {
                int child = children[order[rank]];
                if (rank < keep) {
                    frontier[rank] = child;
                } else {
                    retrieval.addPruned(child, means[order[rank]], variances[order[rank]]);
                }
            }
        }
        if (scanAll) {
            for (int leaf : frontier) {
                scan(query, leaf, retrieval, rows);
            }
            return;
        }
        float[] scores = new float[leafCapacity];
        for (int leaf : frontier) {
            scanCodes(query, leaf, retrieval, scores);
        }
        rerank(query, retrieval, params.k() * RERANK_FACTOR);
    }

    /** Scores a leaf's keys from their int8 codes and adds them to the retrieval as approximate. */
    void scanCodes(float[] query, int leaf, Retrieval retrieval, float[] scores) {
        int count = nodes.memberCount[leaf];
        codes.score(query, leaf, count, scores);
        int[] positions = nodes.members[leaf];
        for (int i = 0; i < count; i++) {
            retrieval.addApproximate(positions[i], scores[i]);
        }
        retrieval.addScannedLeaf(leaf);
    }

    /** Rescores the {@code count} best code-scored keys exactly from the store. */
    private void rerank(float[] query, Retrieval retrieval, int count) {
        TopK best = new TopK(count);
        for (int i = 0; i < retrieval.scannedCount; i++) {
            best.offer(retrieval.scannedScores[i], i);
        }
        int[] chosen = best.drainPositions(new float[best.size()]);
        int dim = nodes.keyDim;
        float[] rows = new float[chosen.length * dim];
        for (int rank = 0; rank < chosen.length; rank++) {
            store.readKey(retrieval.scannedPositions[chosen[rank]], rows, rank * dim);
        }
        for (int rank = 0; rank < chosen.length; rank++) {
            retrieval.rescore(chosen[rank], Dot.dot(query, 0, rows, rank * dim, dim));
        }
    }

    /** Widens the leaf beam, if needed, until the scanned leaves hold at least k keys. */
    private int leavesCovering(int[] leaves, int[] order, int keep, int k) {
        long keys = 0;
        for (int rank = 0; rank < keep; rank++) {
            keys += nodes.keyCount[leaves[order[rank]]];
        }
        while (keys < k && keep < leaves.length) {
            keys += nodes.keyCount[leaves[order[keep++]]];
        }
        return keep;
    }

    private void scan(float[] query, int leaf, Retrieval retrieval, float[] rows) {
        int dim = nodes.keyDim;
        int count = nodes.memberCount[leaf];
        int[] positions = nodes.members[leaf];
        for (int i = 0; i < count; i++) {
            store.readKey(positions[i], rows, i * dim);
        }
        for (int i = 0; i < count; i++) {
            retrieval.addScanned(positions[i], Dot.dot(query, 0, rows, i * dim, dim));
        }
        retrieval.addScannedLeaf(leaf);
    }

    private static int[] byScoreDescending(float[] scores, int count) {
        long[] keyed = new long[count];
        for (int i = 0; i < count; i++) {
            // Sortable bits of -score in the high word, the index in the low word: one primitive sort.
            keyed[i] = ((long) descendingBits(scores[i]) << 32) | i;
        }
        Arrays.sort(keyed);
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = (int) keyed[i];
        }
        return order;
    }

    /** Bits of -score whose signed int order is the float order: ascending bits, descending scores. */
    private static int descendingBits(float score) {
        int bits = Float.floatToIntBits(-score);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    /** The inverse of {@link #descendingBits}. */
    private static float scoreOf(int descendingBits) {
        return -Float.intBitsToFloat(descendingBits ^ ((descendingBits >> 31) & 0x7fffffff));
    }

    /** Best score first, lower position first on ties ({@link TopK#better}). */
    private static SearchResult sorted(int[] positions, float[] scores, int count) {
        long[] keyed = new long[count];
        for (int i = 0; i < count; i++) {
            keyed[i] = ((long) descendingBits(scores[i]) << 32) | positions[i];
        }
        Arrays.sort(keyed);
        long[] sortedPositions = new long[count];
        float[] sortedScores = new float[count];
        for (int i = 0; i < count; i++) {
            sortedPositions[i] = (int) keyed[i];
            sortedScores[i] = scoreOf((int) (keyed[i] >>> 32));
        }
        return new SearchResult(sortedPositions, sortedScores);
    }
}
