package dev.arbor.tree;

import dev.arbor.store.HeadStore;
import java.util.Arrays;

/**
 * Maximum inner product search over an attention tree.
 *
 * <p>Exact mode is best-first branch and bound on the nodes' box bounds: it expands the node with
 * the highest bound until the k-th best score found beats every bound left (strictly, so that a key
 * tying the k-th score at a lower position is still found). Approximate mode keeps the {@code beam}
 * nodes per level with the highest promise (mean of q·k plus {@link #OPTIMISM} standard deviations,
 * from the nodes' int8 sketches, the spread of the best of them again from all their principal
 * directions: see {@link #FINE_SHARE}) and, at the leaf level, scores leaves from their 4-bit
 * {@link LeafCodes} adaptively (up to {@link #CODED_LEAF_WIDENING} times the beam; see
 * {@link #scanLeaves}) and rescores the best 2k to 4k (see {@link #RERANK_FLOATS}) exactly from the store; it never
 * touches more than {@code beam × fanout} nodes per level.
 *
 * <p>Both modes then merge in the sinks and the local window, scored exactly.
 */
final class TreeSearcher {
    /** Standard deviations of q·k added to a node's mean score when ranking the beam; see the README. */
    static final float OPTIMISM = 2f;

    private final TreeNodes nodes;
    /**
     * Approximate mode scores at most this many times {@code beam} leaves from their 4-bit codes: a
     * code scan reads 32 contiguous bytes per key where an exact scan gathers a 256-byte fp32 row
     * from a random store position, so a wide leaf beam costs about what a narrow exact one did.
     */
    static final int CODED_LEAF_WIDENING = 3;
    /**
     * Approximate mode rescores between twice and four times k of the best code-scored keys exactly,
     * as many as {@link #RERANK_FLOATS} key elements allow: four times k at dim 64, twice k at dim 384.
     * Search recall does not need more than twice k (MiniLM: recall@64 0.726 at beam 16, 0.853 at beam
     * 64 either way, and beam 16 went from 1.11 to 0.97 ms on 262,144 keys, cold caches, interleaved),
     * but attention weighs the keys not rescored by their code scores: on synthetic keys (262,144 x 2
     * heads, beam 56) twice k gave an attention error of 0.0082, four times k 0.0067, where rows are cheap.
     */
    static final int RERANK_FLOATS = 256 * 64;
    /**
     * The share of the beam scanned before the k-th best code score sets the floor τ. Half the beam
     * (the tuning on synthetic attention keys) lost a planted needle on 1 MB of a book at k = 5
     * (SpanRetrieverTest): with a small k the floor is high, and the normal model of a leaf's scores
     * underestimates a single outlying sentence, so the scan stopped after those first leaves.
     */
    static final float FIRST_LEAF_SHARE = 1f;
    /**
     * Fewest code-scored keys rescored exactly, whatever k: a question asking for 5 spans would
     * otherwise rerank only 10 candidates scored from 4-bit codes; 128 exact rows cost little next to
     * the scan.
     */
    static final int MIN_RERANK = 128;
    /**
     * A leaf expected to hold fewer keys above τ than this is not scanned by one query's beam. The
     * normal model of a leaf's scores underestimates its tail, so a leaf it gives 0.001 % of a key
     * above τ still holds top-k keys often enough: lowering the floor from 0.01 to 1e-5 scans about a
     * quarter more leaves and buys more recall per millisecond than a wider beam does (262,144 keys,
     * one JVM, cold caches, interleaved): MiniLM at beam 16 0.726 → 0.754 for 9 % more time where beam
     * 24 reaches 0.766 for 29 % more; synthetic at beam 64 0.9905 → 0.9980 for 14 % more.
     */
    static final double SCAN_FLOOR = 1e-5;

    /**
     * Where a level keeps fewer nodes than it ranks (the beam, or at the leaves the most the code scan
     * may take), this many times as many of the most promising are re-ranked by their spread from all
     * their principal directions ({@link TreeNodes#fineSpread}). MiniLM keys, 262,144, beam 56,
     * recall@64 with directions fitted at splits only: 0.880 re-ranking once the kept number, 0.889
     * twice, 0.890 three times (0.861 without);
     * the re-ranked promise took 2, 3 or 4 standard deviations for 0.890, 0.889, 0.889, so it keeps
     * {@link #OPTIMISM}.
     */
    static final int FINE_SHARE = 2;

    private static final int LINE_INTS = 64 / Integer.BYTES;

    private final HeadStore store;
    private final LeafCodes codes;
    private final int leafCapacity;
    /** The sum of what a prefetch loaded: stored so the compiler keeps those loads. */
    private int touched;

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
                    retrieval.addPruned(node, nodes.parent[node]);
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
                    retrieval.addPruned(child, node);
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
            int[] parents = new int[candidates];
            float[] means = new float[candidates];
            float[] spreads = new float[candidates];
            float[] promises = new float[candidates];
            int c = 0;
            for (int node : frontier) {
                for (int i = 0; i < nodes.memberCount[node]; i++) {
                    parents[c] = node;
                    children[c++] = nodes.members[node][i];
                }
            }
            // Every candidate's lines first, in a loop of independent loads whose misses overlap; then
            // the moments, each a longer computation that would otherwise wait on its own miss.
            nodes.touchMoments(children, candidates);
            for (c = 0; c < candidates; c++) {
                nodes.moments(query, children[c], means, spreads, c);
                promises[c] = means[c] + OPTIMISM * spreads[c];
            }
            int[] order = byScoreDescending(promises, candidates);
            boolean leaves = nodes.isLeaf(children[0]);
            int chosen = leaves ? params.beam() * CODED_LEAF_WIDENING : params.beam();
            if (nodes.keepsDirections() && !scanAll && candidates > chosen) {
                order = refined(query, children, means, spreads, promises, order, Math.min(candidates,
                        chosen * FINE_SHARE));
            }
            if (leaves && !scanAll) {
                scanLeaves(query, params, retrieval, children, parents, means, spreads, order);
                return;
            }
            int keep = scanAll ? candidates : Math.min(params.beam(), candidates);
            frontier = new int[keep];
            for (int rank = 0; rank < candidates; rank++) {
                int child = children[order[rank]];
                if (rank < keep) {
                    frontier[rank] = child;
                } else {
                    retrieval.addPruned(child, parents[order[rank]], means[order[rank]],
                            spreads[order[rank]] * spreads[order[rank]]);
                }
            }
        }
        for (int leaf : frontier) {
            scan(query, leaf, retrieval, rows);
        }
    }

    /**
     * Re-ranks the {@code count} most promising candidates by their spread from all their principal
     * directions ({@link TreeNodes#fineSpread}), updating their spreads and promises: returns the new
     * order, those first, the others after them as they were.
     */
    private int[] refined(float[] query, int[] children, float[] means, float[] spreads, float[] promises,
            int[] order, int count) {
        float[] squares = new float[query.length];
        for (int d = 0; d < query.length; d++) {
            squares[d] = query[d] * query[d];
        }
        float[] weights = new float[PrincipalDirections.COUNT];
        float[] best = new float[count];
        nodes.touchFineSpreads(children, order, count);
        for (int rank = 0; rank < count; rank++) {
            int i = order[rank];
            spreads[i] = nodes.fineSpread(query, squares, children[i], spreads[i], weights);
            promises[i] = means[i] + OPTIMISM * spreads[i];
            best[rank] = promises[i];
        }
        int[] byFine = byScoreDescending(best, count);
        int[] reordered = order.clone();
        for (int rank = 0; rank < count; rank++) {
            reordered[rank] = order[byFine[rank]];
        }
        return reordered;
    }

    /**
     * Scores leaves from their codes in two rounds. First the {@link #FIRST_LEAF_SHARE} of the beam with
     * the best promise: their k-th best code score τ is a floor of the true k-th best score. Then the
     * other candidates in the order of how many keys above τ each is expected to hold (its key count
     * times P(q·k > τ) with q·k normal of the leaf's mean and spread), while that is at least
     * {@link #SCAN_FLOOR} and at most {@link #CODED_LEAF_WIDENING} times the beam in all. A
     * query whose top-k sits in a few leaves stops early; one whose top-k is spread reaches further.
     * Finally the best 2k to 4k code-scored keys are rescored exactly ({@link #RERANK_FLOATS}).
     */
    private void scanLeaves(float[] query, SearchParams params, Retrieval retrieval, int[] leaves, int[] parents,
            float[] means, float[] spreads, int[] order) {
        int candidates = leaves.length;
        int budget = Math.min(params.beam() * CODED_LEAF_WIDENING, candidates);
        int first = Math.min(Math.max(1, (int) (params.beam() * FIRST_LEAF_SHARE)), budget);
        boolean[] taken = new boolean[candidates];
        TopK floor = new TopK(params.k());
        float[] scores = new float[leafCapacity];
        long keys = 0;
        int[] batch = new int[budget];
        for (int rank = 0; rank < first; rank++) {
            batch[rank] = leaves[order[rank]];
        }
        prefetchLeaves(batch, first);
        for (int rank = 0; rank < first; rank++) {
            int i = order[rank];
            taken[i] = true;
            keys += scoreLeaf(query, leaves[i], retrieval, scores, floor);
        }
        float tau = floor.threshold();
        float[] expected = new float[candidates];
        for (int i = 0; i < candidates; i++) {
            expected[i] = taken[i] ? Float.NEGATIVE_INFINITY
                    : (float) logExpectedAbove(tau, means[i], spreads[i], nodes.keyCount[leaves[i]]);
        }
        int[] next = byScoreDescending(expected, candidates);
        double floorLog = Math.log(SCAN_FLOOR);
        // Which leaves the second round takes depends on their key counts alone, not on their scores:
        // choose them all, touch them all, then score them.
        int scanned = first;
        int chosen = 0;
        for (int rank = 0; rank < candidates - first && (scanned < budget || keys < params.k()); rank++) {
            int i = next[rank];
            if (expected[i] < floorLog && keys >= params.k()) {
                break;
            }
            taken[i] = true;
            scanned++;
            keys += nodes.memberCount[leaves[i]];
            if (chosen == batch.length) {
                batch = Arrays.copyOf(batch, chosen * 2);
            }
            batch[chosen++] = leaves[i];
        }
        prefetchLeaves(batch, chosen);
        for (int b = 0; b < chosen; b++) {
            scoreLeaf(query, batch[b], retrieval, scores, null);
        }
        for (int i = 0; i < candidates; i++) {
            if (!taken[i]) {
                retrieval.addPruned(leaves[i], parents[i], means[i], spreads[i] * spreads[i]);
            }
        }
        int rows = Math.clamp(RERANK_FLOATS / nodes.keyDim, 2 * params.k(), 4 * params.k());
        rerank(query, retrieval, Math.max(rows, MIN_RERANK));
    }

    /**
     * Touches every cache line that scoring the first {@code count} leaves will read (their codes,
     * grids and member positions), in one loop of independent loads, so that their misses overlap
     * instead of each leaf's waiting on the previous one's.
     */
    void prefetchLeaves(int[] leaves, int count) {
        int sum = 0;
        for (int b = 0; b < count; b++) {
            int leaf = leaves[b];
            int members = nodes.memberCount[leaf];
            sum += codes.touch(leaf, members);
            int[] positions = nodes.members[leaf];
            for (int i = 0; i < members; i += LINE_INTS) {
                sum += positions[i];
            }
        }
        touched = sum;
    }

    /** Scores a leaf from its codes into the retrieval (and {@code floor} unless null); returns its key count. */
    int scoreLeaf(float[] query, int leaf, Retrieval retrieval, float[] scores, TopK floor) {
        int count = nodes.memberCount[leaf];
        codes.score(query, leaf, count, scores);
        int[] positions = nodes.members[leaf];
        for (int i = 0; i < count; i++) {
            retrieval.addApproximate(positions[i], scores[i]);
        }
        if (floor != null) {
            for (int i = 0; i < count; i++) {
                floor.offer(scores[i], positions[i]);
            }
        }
        retrieval.addScannedLeaf(leaf);
        return count;
    }

    /** ln(n · P(X > tau)) for X normal with the given mean and standard deviation. */
    static double logExpectedAbove(float tau, float mean, float spread, int n) {
        if (tau == Float.NEGATIVE_INFINITY) {
            return Math.log(n);
        }
        if (spread <= 0) {
            return mean >= tau ? Math.log(n) : Double.NEGATIVE_INFINITY;
        }
        return Math.log(n) + logNormalTail((tau - mean) / spread);
    }

    /**
     * ln P(Z > z) for a standard normal Z, through the Chebyshev fit of erfc (fractional error below
     * 1.2e-7 everywhere), which is already in exponential form and so stays finite far in the tail.
     */
    static double logNormalTail(double z) {
        double x = Math.abs(z) / Math.sqrt(2);
        double t = 1 / (1 + 0.5 * x);
        double logErfc = Math.log(t) - x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223
                + t * 0.17087277))))))));
        return z >= 0 ? logErfc - Math.log(2) : Math.log1p(-Math.exp(logErfc) / 2);
    }

    /** Rescores the {@code count} best code-scored keys exactly from the store. */
    private void rerank(float[] query, Retrieval retrieval, int count) {
        TopK best = new TopK(count);
        for (int i = 0; i < retrieval.scannedCount; i++) {
            best.offer(retrieval.scannedScores[i], i);
        }
        int[] chosen = best.drainPositions(new float[best.size()]);
        rescoreExactly(query, retrieval, chosen, chosen.length);
    }

    /**
     * Rescores exactly from the store the scanned keys at {@code chosen[0 .. count)} (indices among the
     * retrieval's scanned keys): the search's best, and the heavy keys of leaves refinement opened.
     */
    void rescoreExactly(float[] query, Retrieval retrieval, int[] chosen, int count) {
        int dim = nodes.keyDim;
        int[] positions = new int[count];
        for (int rank = 0; rank < count; rank++) {
            positions[rank] = retrieval.scannedPositions[chosen[rank]];
        }
        float[] rows = new float[count * dim];
        store.readKeys(positions, count, rows);
        for (int rank = 0; rank < count; rank++) {
            retrieval.rescore(chosen[rank], Dot.dot(query, 0, rows, rank * dim, dim));
        }
    }

    private void scan(float[] query, int leaf, Retrieval retrieval, float[] rows) {
        int dim = nodes.keyDim;
        int count = nodes.memberCount[leaf];
        int[] positions = nodes.members[leaf];
        store.readKeys(positions, count, rows);
        for (int i = 0; i < count; i++) {
            retrieval.addScanned(positions[i], Dot.dot(query, 0, rows, i * dim, dim));
        }
        retrieval.addScannedLeaf(leaf);
    }

    private static int[] byScoreDescending(float[] scores, int count) {
        long[] keyed = new long[count];
        for (int i = 0; i < count; i++) {
            keyed[i] = ScoreOrder.key(scores[i], i);
        }
        Arrays.sort(keyed);
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = ScoreOrder.index(keyed[i]);
        }
        return order;
    }

    /** Best score first, lower position first on ties ({@link TopK#better}). */
    private static SearchResult sorted(int[] positions, float[] scores, int count) {
        long[] keyed = new long[count];
        for (int i = 0; i < count; i++) {
            keyed[i] = ScoreOrder.key(scores[i], positions[i]);
        }
        Arrays.sort(keyed);
        long[] sortedPositions = new long[count];
        float[] sortedScores = new float[count];
        for (int i = 0; i < count; i++) {
            sortedPositions[i] = ScoreOrder.index(keyed[i]);
            sortedScores[i] = ScoreOrder.score(keyed[i]);
        }
        return new SearchResult(sortedPositions, sortedScores);
    }
}
