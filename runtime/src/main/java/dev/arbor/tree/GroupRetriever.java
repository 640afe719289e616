package dev.arbor.tree;

import dev.arbor.store.HeadStore;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link TreeRetriever} for the query heads that share one key/value head, built for the small head
 * sizes of decoders: one beam descent serves the whole group, each node ranked by the best promise
 * (mean + {@link TreeSearcher#OPTIMISM} spreads of q·k) over the group's queries, so each query keeps
 * the subtrees its own beam would have kept when they agree and the union when they do not. Leaves are
 * scored exactly from fp32 keys ({@link LeafRows}, contiguous per leaf with their values, for head sizes
 * up to 16; else the store's rows): with 8 dimensions an exact dot product costs what a code lookup does, and exact scores
 * need no rerank and make the leaf remainders' softmax mass exact.
 *
 * <p>Every query gets its own top-k, and its own remainder per scanned leaf (the leaf's keys outside
 * its fine positions, with a key moved along that query to their log-mean-exp score, as in
 * {@link TreeRetriever}). The pruned subtrees and the sinks and window are the group's, so their
 * summaries are computed once; past {@link #PRUNED_SUMMARY_BUDGET} the lightest pruned subtrees (by
 * estimated softmax mass) share one summary. All working arrays live in the caller's {@link GroupRetrieval}.
 */
final class GroupRetriever {
    private static final VectorSpecies<Float> LANES = FloatVector.SPECIES_256;
    /**
     * A leaf expected to hold fewer keys above τ than this is not scanned. The decoder's perplexities
     * (in {@code LlamaModel.DEFAULT_TREE_SEARCH}'s javadoc) were measured with it; a single query's
     * search scans further, down to {@link TreeSearcher#SCAN_FLOOR}.
     */
    static final double EXPECTED_KEYS_FLOOR = 0.01;
    /**
     * A leaf whose mean score sits this many spreads below τ expects fewer than 1e-6 of its keys above
     * it (P(Z > 5) is 2.9e-7, times at most a few hundred keys), far under {@link #EXPECTED_KEYS_FLOOR}:
     * it is not scanned, and its tail probability is not computed.
     */
    private static final float HOPELESS_SPREADS = 5f;
    /**
     * Pruned subtrees summarised one by one; the lightest of the rest are folded into one summary. The
     * pruned subtrees grow with the tree's depth (about beam × fanout per level), and most of them hold
     * a negligible share of any query's softmax mass; a fixed budget keeps the attention op's input
     * from growing with the context.
     */
    static final int PRUNED_SUMMARY_BUDGET = 32;
    /**
     * Leaves scanned at most, in beams: narrower than {@link TreeSearcher#CODED_LEAF_WIDENING} (3), as
     * exact leaf scores leave no rerank to feed. On stories260K over 4,096 tokens: perplexity +0.146 %
     * over exact (3: +0.095 %), decode ~5 % faster at 1K and 8K; past a few thousand keys the scanned
     * leaves are cache misses, and they are most of what a search reads.
     */
    static final int LEAF_WIDENING = 2;
    /** Floats (or ints) per 64-byte cache line: a touch loop loads one of each. */
    private static final int LINE_FLOATS = 16;

    private final TreeNodes nodes;
    private final HeadStore store;
    private final TreeSearcher searcher;
    private final LeafIndex leafIndex;
    private final TreeRetriever single;
    private final StoreRows keyRows;
    private final StoreRows valueRows;
    private final LeafRows leafRows;
    /** The sum of what a touch loop loaded: stored so the compiler keeps those loads. */
    private float touched;

    GroupRetriever(TreeNodes nodes, HeadStore store, TreeSearcher searcher, LeafIndex leafIndex, LeafRows leafRows,
            TreeRetriever single) {
        this.nodes = nodes;
        this.store = store;
        this.searcher = searcher;
        this.leafIndex = leafIndex;
        this.single = single;
        this.keyRows = StoreRows.keys(store);
        this.valueRows = StoreRows.values(store);
        this.leafRows = leafRows;
    }

    void retrieve(float[] queries, int offset, int count, float scale, SearchParams params, GroupRetrieval out) {
        out.reset(count);
        if (nodes.root < 0) {
            return;
        }
        keyRows.refresh();
        valueRows.refresh();
        if (params.mode() == SearchMode.EXACT) {
            retrieveOneByOne(queries, offset, count, scale, params, out);
            return;
        }
        Scratch w = out.scratch;
        w.start(queries, offset, count, nodes, params.k());
        boolean scanAll = store.size() <= params.k();
        descend(w, params, scale, scanAll);
        scanLeaves(w, params, scale, scanAll);
        int[] always = searcher.alwaysAttended(params);
        int shared = prunedSummaries(w, always);
        for (int g = 0; g < count; g++) {
            kth(w, g);
            leafRemainders(w, g, scale, always, out);
            alwaysOutsideScannedLeaves(w, g, always, out);
            for (int i = 0; i < shared; i++) {
                int s = out.addSummary(g, w.prunedCounts[i]);
                System.arraycopy(w.prunedKeys, i * nodes.keyDim, out.summaryKeys[g], s * nodes.keyDim, nodes.keyDim);
                System.arraycopy(w.prunedValues, i * nodes.valueDim, out.summaryValueSums[g], s * nodes.valueDim,
                        nodes.valueDim);
            }
        }
    }

    /** Exact search has no beam to share: each query searches alone. */
    private void retrieveOneByOne(float[] queries, int offset, int count, float scale, SearchParams params,
            GroupRetrieval out) {
        int dim = nodes.keyDim;
        for (int g = 0; g < count; g++) {
            TreeRetrieval retrieval = single.retrieve(
                    Arrays.copyOfRange(queries, offset + g * dim, offset + (g + 1) * dim), scale, params);
            for (int position : retrieval.positions()) {
                int f = out.addFine(g, position);
                keyRows.read(position, out.fineKeys[g], f * dim);
                valueRows.read(position, out.fineValues[g], f * nodes.valueDim);
            }
            for (TreeRetrieval.Summary summary : retrieval.summaries()) {
                int s = out.addSummary(g, summary.count());
                System.arraycopy(summary.meanKey(), 0, out.summaryKeys[g], s * dim, dim);
                System.arraycopy(summary.valueSum(), 0, out.summaryValueSums[g], s * nodes.valueDim, nodes.valueDim);
            }
        }
    }

    /** Walks down to the leaf level keeping the beam's best nodes; leaves the leaf candidates in the scratch. */
    private void descend(Scratch w, SearchParams params, float scale, boolean scanAll) {
        w.frontier[0] = nodes.root;
        int frontierCount = 1;
        if (nodes.isLeaf(nodes.root)) {
            w.candidateCount = 0;
            addCandidate(w, nodes.root);
            rankCandidates(w);
            return;
        }
        while (true) {
            w.candidateCount = 0;
            for (int f = 0; f < frontierCount; f++) {
                int node = w.frontier[f];
                for (int i = 0; i < nodes.memberCount[node]; i++) {
                    addCandidate(w, nodes.members[node][i]);
                }
            }
            rankCandidates(w);
            if (nodes.isLeaf(w.candidates[0])) {
                return;
            }
            int candidates = w.candidateCount;
            int keep = scanAll ? candidates : Math.min(params.beam(), candidates);
            w.selectBest(w.promises, candidates, keep);
            w.frontier = ensure(w.frontier, keep);
            for (int rank = 0; rank < keep; rank++) {
                w.frontier[rank] = w.candidates[w.best[rank]];
            }
            for (int i = 0; i < candidates; i++) {
                if (w.taken[i] == 0) {
                    w.addPruned(w.candidates[i], logMass(w, i, scale));
                }
            }
            frontierCount = keep;
        }
    }

    private void addCandidate(Scratch w, int node) {
        int c = w.candidateCount++;
        if (c == w.candidates.length) {
            int groups = w.queries;
            w.candidates = Arrays.copyOf(w.candidates, 2 * c);
            w.promises = Arrays.copyOf(w.promises, 2 * c);
            w.means = Arrays.copyOf(w.means, 2 * c * groups);
            w.spreads = Arrays.copyOf(w.spreads, 2 * c * groups);
        }
        w.candidates[c] = node;
    }

    /**
     * Each candidate's moments for every query of the group and its promise, the best of theirs. Every
     * line they read (key count, sketch, scales) is touched first, in loops of independent loads whose
     * misses overlap: at 64K keys a level's ~90 candidates are mostly cache misses, and each moment
     * otherwise waited on its own.
     */
    private void rankCandidates(Scratch w) {
        int groups = w.queries;
        int keyCounts = 0;
        for (int c = 0; c < w.candidateCount; c++) {
            keyCounts += nodes.keyCount[w.candidates[c]];
        }
        touched = keyCounts;
        nodes.touchMoments(w.candidates, w.candidateCount);
        for (int c = 0; c < w.candidateCount; c++) {
            int node = w.candidates[c];
            float promise = Float.NEGATIVE_INFINITY;
            for (int g = 0; g < groups; g++) {
                int i = c * groups + g;
                nodes.moments(w.query[g], node, w.means, w.spreads, i);
                promise = Math.max(promise, w.means[i] + TreeSearcher.OPTIMISM * w.spreads[i]);
            }
            w.promises[c] = promise;
        }
    }

    /**
     * Scans the leaf candidates as {@link TreeSearcher}'s approximate scan does (first the beam by
     * promise, then by expected keys above each query's k-th score, up to {@link #LEAF_WIDENING} times
     * the beam), each key scored exactly; the rest are pruned.
     */
    private void scanLeaves(Scratch w, SearchParams params, float scale, boolean scanAll) {
        int candidates = w.candidateCount;
        int budget = scanAll ? candidates : Math.min(params.beam() * LEAF_WIDENING, candidates);
        int first = scanAll ? candidates : Math.min(params.beam(), budget);
        w.selectBest(w.promises, candidates, first);
        w.batch = ensure(w.batch, budget);
        for (int rank = 0; rank < first; rank++) {
            w.batch[rank] = w.candidates[w.best[rank]];
        }
        long keys = scan(w, w.batch, first);
        if (first < candidates) {
            int groups = w.queries;
            float[] expected = w.expected = ensure(w.expected, candidates);
            double floorLog = Math.log(EXPECTED_KEYS_FLOOR);
            for (int i = 0; i < candidates; i++) {
                double best = Double.NEGATIVE_INFINITY;
                if (w.taken[i] == 0) {
                    int keyCount = nodes.keyCount[w.candidates[i]];
                    for (int g = 0; g < groups; g++) {
                        float tau = w.top[g].threshold();
                        float mean = w.means[i * groups + g];
                        float spread = w.spreads[i * groups + g];
                        // Past this many spreads below τ no leaf expects a key above it: skip the tail function.
                        if (keys >= params.k() && mean + HOPELESS_SPREADS * spread < tau) {
                            continue;
                        }
                        best = Math.max(best, TreeSearcher.logExpectedAbove(tau, mean, spread, keyCount));
                    }
                }
                expected[i] = (float) best;
            }
            w.rank(expected, candidates);
            // Which leaves this round takes depends on their key counts alone, not on their scores:
            // choose them all, then scan them together.
            int scanned = first;
            int chosen = 0;
            while (scanned < budget || keys < params.k()) {
                int i = w.nextBest();
                if (i < 0 || (expected[i] < floorLog && keys >= params.k())) {
                    break;
                }
                if (w.taken[i] != 0) {
                    continue;
                }
                w.taken[i] = 1;
                scanned++;
                keys += nodes.memberCount[w.candidates[i]];
                w.batch = ensure(w.batch, chosen + 1);
                w.batch[chosen++] = w.candidates[i];
            }
            scan(w, w.batch, chosen);
        }
        for (int i = 0; i < candidates; i++) {
            if (w.taken[i] == 0) {
                w.addPruned(w.candidates[i], logMass(w, i, scale));
            }
        }
    }

    /**
     * The log of the softmax mass candidate {@code i}'s keys most likely carry for the group's heaviest
     * query, its scores taken as normal with the node's mean and spread: log(count) + scale·mean +
     * (scale·spread)²/2. Only ranks pruned subtrees against each other.
     */
    private float logMass(Scratch w, int i, float scale) {
        float best = Float.NEGATIVE_INFINITY;
        for (int g = 0; g < w.queries; g++) {
            float spread = scale * w.spreads[i * w.queries + g];
            best = Math.max(best, scale * w.means[i * w.queries + g] + 0.5f * spread * spread);
        }
        // Some 150 pruned subtrees per search at 64K keys: a float logarithm, not Math.log's double one.
        return best + FastLog.of(nodes.keyCount[w.candidates[i]]);
    }

    /**
     * Scans the first {@code count} of {@code leaves}; returns their keys. Every line the scans read (the
     * leaves' kept keys and their member positions) is touched first in one loop of independent loads, so
     * the misses of cold leaves overlap instead of each leaf's waiting on the previous one's.
     */
    private long scan(Scratch w, int[] leaves, int count) {
        float sum = 0;
        for (int b = 0; b < count; b++) {
            int leaf = leaves[b];
            int members = nodes.memberCount[leaf];
            int[] positions = nodes.members[leaf];
            for (int i = 0; i < members; i += LINE_FLOATS) {
                sum += positions[i];
            }
            if (leafRows.kept()) {
                float[] keys = leafRows.keys(leaf);
                for (int j = 0, end = members * nodes.keyDim; j < end; j += LINE_FLOATS) {
                    sum += keys[j];
                }
            }
        }
        touched = sum;
        long keys = 0;
        for (int b = 0; b < count; b++) {
            keys += scan(w, leaves[b]);
        }
        return keys;
    }

    /** Scores every key of a leaf exactly for every query of the group; returns its key count. */
    private int scan(Scratch w, int leaf) {
        int dim = nodes.keyDim;
        int count = nodes.memberCount[leaf];
        int start = w.scannedCount;
        w.ensureScanned(start + count, dim);
        int[] positions = nodes.members[leaf];
        // A key that enters a top-k will likely be attended finely: its value row is loaded now, while the
        // scan goes on, rather than when the remainders copy it (past a few thousand keys, a cache miss each).
        float[] values = leafRows.kept() ? leafRows.values(leaf) : null;
        float sum = 0;
        if (leafRows.kept()) {
            System.arraycopy(leafRows.keys(leaf), 0, w.scannedKeys, start * dim, count * dim);
        } else {
            keyRows.read(positions, count, w.scannedKeys, start * dim);
        }
        for (int g = 0; g < w.queries; g++) {
            float[] query = w.query[g];
            float[] scores = w.scannedScores[g];
            TopK top = w.top[g];
            for (int i = 0; i < count; i++) {
                scores[start + i] = Dot.dot(query, 0, w.scannedKeys, (start + i) * dim, dim);
            }
            // Most keys of a leaf past the first few score under the k-th best: skip the heap for them.
            float threshold = top.threshold();
            for (int i = 0; i < count; i++) {
                if (scores[start + i] >= threshold) {
                    top.offer(scores[start + i], positions[i]);
                    threshold = top.threshold();
                    if (values != null) {
                        sum += values[i * nodes.valueDim];
                    }
                }
            }
        }
        // Added, not stored: the scans' own touch loop stored its sum just before.
        touched += sum;
        System.arraycopy(positions, 0, w.scannedPositions, start, count);
        w.scannedCount = start + count;
        w.addScannedLeaf(leaf);
        return count;
    }

    /**
     * The pruned subtrees' summaries, shared by the group: each subtree's keys less the sinks and window
     * positions inside it (top-k keys always lie in scanned leaves). Returns how many there are.
     */
    private int prunedSummaries(Scratch w, int[] always) {
        int dim = nodes.keyDim;
        int valueDim = nodes.valueDim;
        // A decoder's trees hold its sinks and window out, so usually nothing is removed.
        boolean removes = always.length > 0;
        w.ensureRemoved(removes ? w.prunedCount : 0, dim, valueDim);
        if (removes) {
            w.markNodes();
        }
        for (int position : always) {
            int node = leafIndex.leafOf(position);
            if (w.nodeKind(node) == Scratch.SCANNED) {
                continue;
            }
            while (w.nodeKind(node) != Scratch.PRUNED) {
                node = nodes.parent[node];
            }
            int slot = w.nodeSlot[node];
            keyRows.read(position, w.key, 0);
            valueRows.read(position, w.value, 0);
            w.removedCounts[slot]++;
            Dot.add(w.key, 0, w.removedKeys, slot * dim, dim);
            Dot.add(w.value, 0, w.removedValues, slot * valueDim, valueDim);
        }
        w.ensurePrunedSummaries(w.prunedCount, dim, valueDim);
        boolean folds = w.prunedCount > PRUNED_SUMMARY_BUDGET;
        int alone = folds ? PRUNED_SUMMARY_BUDGET - 1 : w.prunedCount;
        int folded = 0;
        if (folds) {
            w.selectBest(w.prunedMass, w.prunedCount, alone);
            folded = foldEverything(w, removes);
        }
        w.batch = ensure(w.batch, alone);
        for (int taken = 0; taken < alone; taken++) {
            w.batch[taken] = folds ? w.best[taken] : taken;
        }
        touchSums(w.pruned, w.batch, alone);
        int shared = 0;
        for (int taken = 0; taken < alone; taken++) {
            int slot = w.batch[taken];
            int node = w.pruned[slot];
            int keys = nodes.keyCount[node] - (removes ? w.removedCounts[slot] : 0);
            if (keys == 0) {
                continue;
            }
            for (int d = 0; d < dim; d++) {
                float sum = nodes.keySum[node * dim + d] - (removes ? w.removedKeys[slot * dim + d] : 0f);
                w.prunedKeys[shared * dim + d] = sum / keys;
                w.foldedKey[d] -= sum;
            }
            for (int d = 0; d < valueDim; d++) {
                float sum = nodes.valueSum[node * valueDim + d] - (removes ? w.removedValues[slot * valueDim + d] : 0f);
                w.prunedValues[shared * valueDim + d] = sum;
                w.foldedValue[d] -= sum;
            }
            folded -= keys;
            w.prunedCounts[shared++] = keys;
        }
        if (folds && folded > 0) {
            for (int d = 0; d < dim; d++) {
                w.prunedKeys[shared * dim + d] = w.foldedKey[d] / folded;
            }
            System.arraycopy(w.foldedValue, 0, w.prunedValues, shared * valueDim, valueDim);
            w.prunedCounts[shared++] = folded;
        }
        return shared;
    }

    /**
     * Touches the key count, key sum and value sum of the nodes {@code nodeIds[slots[0 .. count)]} in one
     * loop of independent loads, before they are read one by one (pruned subtrees are cold at 64K keys).
     */
    private void touchSums(int[] nodeIds, int[] slots, int count) {
        float sum = 0;
        for (int i = 0; i < count; i++) {
            int node = nodeIds[slots[i]];
            sum += nodes.keyCount[node] + nodes.keySum[node * nodes.keyDim] + nodes.valueSum[node * nodes.valueDim];
        }
        touched = sum;
    }

    /**
     * Starts the folded summary as every pruned key: the pruned subtrees and the scanned leaves split
     * the tree, so that is the root less the scanned leaves (less the sinks and window inside pruned
     * subtrees). The subtrees summarised alone are then taken out of it, so the many light subtrees
     * folded together are never read one by one. Returns the keys it holds.
     */
    private int foldEverything(Scratch w, boolean removes) {
        int dim = nodes.keyDim;
        int valueDim = nodes.valueDim;
        int root = nodes.root;
        System.arraycopy(nodes.keySum, root * dim, w.foldedKey, 0, dim);
        System.arraycopy(nodes.valueSum, root * valueDim, w.foldedValue, 0, valueDim);
        int keys = nodes.keyCount[root];
        for (int l = 0; l < w.scannedLeafCount; l++) {
            int leaf = w.scannedLeaves[l];
            keys -= nodes.keyCount[leaf];
            subtract(nodes.keySum, leaf * dim, w.foldedKey, dim);
            subtract(nodes.valueSum, leaf * valueDim, w.foldedValue, valueDim);
        }
        if (removes) {
            for (int slot = 0; slot < w.prunedCount; slot++) {
                keys -= w.removedCounts[slot];
                subtract(w.removedKeys, slot * dim, w.foldedKey, dim);
                subtract(w.removedValues, slot * valueDim, w.foldedValue, valueDim);
            }
        }
        return keys;
    }

    /** Drains query g's top-k for its k-th best (score, position), which tells the scanned keys it attends finely. */
    private static void kth(Scratch w, int g) {
        int[] top = w.top[g].drainPositions(w.topScores);
        boolean full = top.length == w.k;
        w.kthScore = full ? w.topScores[top.length - 1] : Float.NEGATIVE_INFINITY;
        w.kthPosition = full ? top[top.length - 1] : Integer.MAX_VALUE;
    }

    /**
     * The sinks and window positions outside the scanned leaves, fine for query g with their key and
     * value read from the store (those inside were taken with the scanned leaves' fine keys).
     */
    private void alwaysOutsideScannedLeaves(Scratch w, int g, int[] always, GroupRetrieval out) {
        for (int position : always) {
            if (w.nodeKind(leafIndex.leafOf(position)) != Scratch.SCANNED) {
                int f = out.addFine(g, position);
                keyRows.read(position, out.fineKeys[g], f * nodes.keyDim);
                valueRows.read(position, out.fineValues[g], f * nodes.valueDim);
            }
        }
    }

    /**
     * Per scanned leaf, query g's fine keys (its top-k and the sinks and window inside the leaf, in scan
     * order, with their keys and values) and its remainder: the keys not fine for g, as one summary whose
     * key is their mean moved along q_g until it scores the log-mean-exp of their exact scores (their
     * softmax mass). The fine keys' scores become -∞ in a copy, so one SIMD pass of exponentials per leaf skips them.
     * A scanned key is in g's top-k exactly when its (score, position) pair is at least the k-th one's,
     * so the copy takes one sequential pass; only the few sinks and window positions are looked up.
     */
    private void leafRemainders(Scratch w, int g, float scale, int[] always, GroupRetrieval out) {
        int dim = nodes.keyDim;
        int valueDim = nodes.valueDim;
        float[] query = w.query[g];
        float[] scores = w.scannedScores[g];
        float[] masked = w.masked = ensure(w.masked, w.scannedCount);
        float kth = w.kthScore;
        for (int i = 0; i < w.scannedCount; i++) {
            float score = scores[i];
            boolean fine = score > kth || (score == kth && w.scannedPositions[i] <= w.kthPosition);
            masked[i] = fine ? Float.NEGATIVE_INFINITY : score;
        }
        for (int position : always) {
            int leaf = leafIndex.leafOf(position);
            if (w.nodeKind(leaf) == Scratch.SCANNED) {
                int slot = w.nodeSlot[leaf];
                for (int i = slot == 0 ? 0 : w.scannedLeafEnds[slot - 1]; i < w.scannedLeafEnds[slot]; i++) {
                    if (w.scannedPositions[i] == position) {
                        masked[i] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
        float queryNorm = Dot.dot(query, 0, query, 0, dim);
        int start = 0;
        for (int l = 0; l < w.scannedLeafCount; l++) {
            int leaf = w.scannedLeaves[l];
            int end = w.scannedLeafEnds[l];
            int s = -1;
            float max = Float.NEGATIVE_INFINITY;
            for (int i = start; i < end; i++) {
                if (masked[i] != Float.NEGATIVE_INFINITY) {
                    max = Math.max(max, masked[i]);
                    continue;
                }
                if (s < 0) {
                    s = startRemainder(w, g, leaf, out);
                }
                out.summaryCounts[g][s]--;
                int f = out.addFine(g, w.scannedPositions[i]);
                float[] fineKeys = out.fineKeys[g];
                float[] fineValues = out.fineValues[g];
                for (int d = 0; d < dim; d++) {
                    float key = w.scannedKeys[i * dim + d];
                    fineKeys[f * dim + d] = key;
                    out.summaryKeys[g][s * dim + d] -= key;
                }
                if (leafRows.kept()) {
                    System.arraycopy(leafRows.values(leaf), (i - start) * valueDim, fineValues, f * valueDim, valueDim);
                } else {
                    valueRows.read(w.scannedPositions[i], fineValues, f * valueDim);
                }
                for (int d = 0; d < valueDim; d++) {
                    out.summaryValueSums[g][s * valueDim + d] -= fineValues[f * valueDim + d];
                }
            }
            if (s < 0) {
                s = startRemainder(w, g, leaf, out);
            }
            int count = (int) out.summaryCounts[g][s];
            if (count == 0) {
                out.summaryTotals[g]--;
                start = end;
                continue;
            }
            float effective = max + (float) (Math.log(expSum(masked, start, end, scale, max) / count) / scale);
            start = end;
            float[] keys = out.summaryKeys[g];
            for (int d = 0; d < dim; d++) {
                keys[s * dim + d] /= count;
            }
            if (queryNorm > 0) {
                float shift = (effective - Dot.dot(query, 0, keys, s * dim, dim)) / queryNorm;
                for (int d = 0; d < dim; d++) {
                    keys[s * dim + d] += shift * query[d];
                }
            }
        }
    }

    /** A summary of the whole leaf (key sum, value sum, count) that the fine keys are then taken out of. */
    private int startRemainder(Scratch w, int g, int leaf, GroupRetrieval out) {
        int dim = nodes.keyDim;
        int valueDim = nodes.valueDim;
        int s = out.addSummary(g, nodes.keyCount[leaf]);
        System.arraycopy(nodes.keySum, leaf * dim, out.summaryKeys[g], s * dim, dim);
        System.arraycopy(nodes.valueSum, leaf * valueDim, out.summaryValueSums[g], s * valueDim, valueDim);
        return s;
    }

    /** {@code target[0 .. length) -= source[offset ..]}. */
    private static void subtract(float[] source, int offset, float[] target, int length) {
        for (int d = 0; d < length; d++) {
            target[d] -= source[offset + d];
        }
    }

    /** Σ exp(scale·(scores[i] − max)) over {@code [from, to)}; -∞ scores add nothing. */
    static float expSum(float[] scores, int from, int to, float scale, float max) {
        int i = from;
        FloatVector sum = FloatVector.zero(LANES);
        for (int bound = from + LANES.loopBound(to - from); i < bound; i += LANES.length()) {
            sum = sum.add(FloatVector.fromArray(LANES, scores, i).sub(max).mul(scale).lanewise(VectorOperators.EXP));
        }
        float total = sum.reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) {
            total += (float) Math.exp(scale * (scores[i] - max));
        }
        return total;
    }

    private static int[] ensure(int[] array, int length) {
        return array.length >= length ? array : Arrays.copyOf(array, Math.max(length, 2 * array.length));
    }

    private static float[] ensure(float[] array, int length) {
        return array.length >= length ? array : Arrays.copyOf(array, Math.max(length, 2 * array.length));
    }

    /** The working arrays of one group retrieval, reused by the next; grown on demand, never shrunk. */
    static final class Scratch {
        static final int SCANNED = 1;
        static final int PRUNED = 2;

        int queries;
        int k;
        float[][] query = new float[0][];
        TopK[] top = new TopK[0];
        float[] topScores = new float[0];
        int[] frontier = new int[16];
        int[] candidates = new int[64];
        float[] promises = new float[64];
        float[] means = new float[0];
        float[] spreads = new float[0];
        int candidateCount;
        int[] taken = new int[64];
        /** The indices {@link #selectBest} kept, best first. */
        int[] best = new int[16];
        /** Leaves chosen to be scanned together. */
        int[] batch = new int[32];
        float[] expected = new float[64];
        long[] heap = new long[64];
        int heapSize;
        int[] pruned = new int[64];
        /** Per pruned subtree, its {@link GroupRetriever#logMass}: the lightest are folded together. */
        float[] prunedMass = new float[64];
        int prunedCount;
        float[] foldedKey = new float[0];
        float[] foldedValue = new float[0];
        int[] scannedPositions = new int[1024];
        float[] scannedKeys = new float[0];
        float[][] scannedScores = new float[0][];
        int scannedCount;
        int[] scannedLeaves = new int[64];
        int[] scannedLeafEnds = new int[64];
        int scannedLeafCount;
        /** Per node: the call that last marked it, its kind then, and its slot among the pruned. */
        int[] nodeStamps = new int[0];
        byte[] nodeKinds = new byte[0];
        int[] nodeSlot = new int[0];
        int stamp;
        int[] removedCounts = new int[64];
        float[] removedKeys = new float[0];
        float[] removedValues = new float[0];
        float[] prunedKeys = new float[0];
        float[] prunedValues = new float[0];
        int[] prunedCounts = new int[64];
        float[] key = new float[0];
        float[] value = new float[0];
        float[] masked = new float[1024];
        /** The current query's k-th best (score, position), or -∞ when it kept fewer than k keys. */
        float kthScore;
        int kthPosition;

        void start(float[] queries, int offset, int count, TreeNodes nodes, int k) {
            int dim = nodes.keyDim;
            if (query.length != count || key.length != dim || this.k != k) {
                this.k = k;
                query = new float[count][dim];
                top = new TopK[count];
                scannedScores = new float[count][scannedPositions.length];
                scannedKeys = new float[scannedPositions.length * dim];
                topScores = new float[k];
                key = new float[dim];
                value = new float[nodes.valueDim];
                foldedKey = new float[dim];
                foldedValue = new float[nodes.valueDim];
            }
            this.queries = count;
            for (int g = 0; g < count; g++) {
                System.arraycopy(queries, offset + g * dim, query[g], 0, dim);
                top[g] = new TopK(k);
            }
            if (means.length < candidates.length * count) {
                means = new float[candidates.length * count];
                spreads = new float[candidates.length * count];
            }
            if (nodeStamps.length < nodes.count) {
                int capacity = Math.max(nodes.count, 2 * nodeStamps.length);
                nodeStamps = Arrays.copyOf(nodeStamps, capacity);
                nodeKinds = Arrays.copyOf(nodeKinds, capacity);
                nodeSlot = Arrays.copyOf(nodeSlot, capacity);
            }
            if (++stamp == Integer.MAX_VALUE) {
                Arrays.fill(nodeStamps, 0);
                stamp = 1;
            }
            prunedCount = 0;
            scannedCount = 0;
            scannedLeafCount = 0;
        }

        int nodeKind(int node) {
            return nodeStamps[node] == stamp ? nodeKinds[node] : 0;
        }

        void addPruned(int node, float logMass) {
            if (prunedCount == pruned.length) {
                pruned = Arrays.copyOf(pruned, 2 * prunedCount);
                prunedMass = Arrays.copyOf(prunedMass, 2 * prunedCount);
            }
            prunedMass[prunedCount] = logMass;
            pruned[prunedCount++] = node;
        }

        void addScannedLeaf(int leaf) {
            if (scannedLeafCount == scannedLeaves.length) {
                scannedLeaves = Arrays.copyOf(scannedLeaves, 2 * scannedLeafCount);
                scannedLeafEnds = Arrays.copyOf(scannedLeafEnds, 2 * scannedLeafCount);
            }
            scannedLeafEnds[scannedLeafCount] = scannedCount;
            scannedLeaves[scannedLeafCount++] = leaf;
        }

        /**
         * Marks the pruned subtrees and scanned leaves for {@link #nodeKind} and {@link #nodeSlot}, which
         * only the sinks and window positions inside the tree look up. Marked as they were found, each
         * pruned node wrote three per-node arrays, a cache miss apiece at 64K keys; a decoder's trees
         * hold their sinks and window out, so it never needs the marks.
         */
        void markNodes() {
            for (int slot = 0; slot < prunedCount; slot++) {
                mark(pruned[slot], PRUNED, slot);
            }
            for (int slot = 0; slot < scannedLeafCount; slot++) {
                mark(scannedLeaves[slot], SCANNED, slot);
            }
        }

        private void mark(int node, int kind, int slot) {
            nodeStamps[node] = stamp;
            nodeKinds[node] = (byte) kind;
            nodeSlot[node] = slot;
        }

        void ensureScanned(int count, int dim) {
            if (count > scannedPositions.length) {
                int capacity = Math.max(count, 2 * scannedPositions.length);
                scannedPositions = Arrays.copyOf(scannedPositions, capacity);
                scannedKeys = Arrays.copyOf(scannedKeys, capacity * dim);
                for (int g = 0; g < scannedScores.length; g++) {
                    scannedScores[g] = Arrays.copyOf(scannedScores[g], capacity);
                }
            }
        }

        void ensureRemoved(int count, int dim, int valueDim) {
            if (removedCounts.length < count || removedKeys.length < count * dim) {
                int capacity = Math.max(count, 2 * removedCounts.length);
                removedCounts = new int[capacity];
                removedKeys = new float[capacity * dim];
                removedValues = new float[capacity * valueDim];
            }
            Arrays.fill(removedCounts, 0, count, 0);
            Arrays.fill(removedKeys, 0, count * dim, 0f);
            Arrays.fill(removedValues, 0, count * valueDim, 0f);
        }

        void ensurePrunedSummaries(int count, int dim, int valueDim) {
            if (prunedCounts.length < count || prunedKeys.length < count * dim) {
                int capacity = Math.max(count, 2 * prunedCounts.length);
                prunedCounts = new int[capacity];
                prunedKeys = new float[capacity * dim];
                prunedValues = new float[capacity * valueDim];
            }
        }

        /**
         * Puts the indices of the {@code keep} best of the first {@code count} scores in {@code best},
         * best first (lower index first on ties), and marks them in {@code taken}: the set and order
         * {@link #nextBest} would give. A level keeps 8 of some 90 candidates at 64K keys, and most of them
         * lose at once to the worst of the kept; building a heap over all of them and popping the 8 cost
         * 2-3.5 % more per stories260K decode step at 64K (one-JVM A/B, alternating blocks), none at 1K.
         */
        void selectBest(float[] scores, int count, int keep) {
            if (heap.length < keep) {
                heap = new long[Math.max(keep, 2 * heap.length)];
            }
            best = ensure(best, keep);
            taken = ensure(taken, count);
            Arrays.fill(taken, 0, count, 0);
            int kept = 0;
            for (int i = 0; i < count; i++) {
                long item = ScoreOrder.key(scores[i], i);
                if (kept < keep) {
                    heap[kept] = item;
                    siftUpWorst(kept++);
                } else if (kept > 0 && item < heap[0]) {
                    heap[0] = item;
                    siftDownWorst(0, kept);
                }
            }
            Arrays.sort(heap, 0, kept);
            for (int rank = 0; rank < kept; rank++) {
                int i = ScoreOrder.index(heap[rank]);
                best[rank] = i;
                taken[i] = 1;
            }
        }

        /** Restores the kept set's max-heap (worst on top) after an item was added at {@code i}. */
        private void siftUpWorst(int i) {
            long item = heap[i];
            while (i > 0) {
                int parent = (i - 1) / 2;
                if (heap[parent] >= item) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = item;
        }

        /** Restores the kept set's max-heap (worst on top) of {@code size} items after {@code i} was replaced. */
        private void siftDownWorst(int i, int size) {
            long item = heap[i];
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && heap[child + 1] > heap[child]) {
                    child++;
                }
                if (heap[child] <= item) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = item;
        }

        /** Readies the first {@code count} scores for {@link #nextBest}: a heap, built in linear time. */
        void rank(float[] scores, int count) {
            if (heap.length < count) {
                heap = new long[Math.max(count, 2 * heap.length)];
            }
            for (int i = 0; i < count; i++) {
                heap[i] = ScoreOrder.key(scores[i], i);
            }
            heapSize = count;
            for (int i = count / 2 - 1; i >= 0; i--) {
                siftDown(i);
            }
        }

        /** The index of the best score not yet taken (lower index first on ties), or -1 when none is left. */
        int nextBest() {
            if (heapSize == 0) {
                return -1;
            }
            long best = heap[0];
            heap[0] = heap[--heapSize];
            siftDown(0);
            return ScoreOrder.index(best);
        }

        private void siftDown(int i) {
            long item = heap[i];
            while (true) {
                int child = 2 * i + 1;
                if (child >= heapSize) {
                    break;
                }
                if (child + 1 < heapSize && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (heap[child] >= item) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = item;
        }
    }
}
