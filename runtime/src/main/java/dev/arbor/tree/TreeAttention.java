package dev.arbor.tree;

import dev.arbor.store.HeadStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Softmax attention of one query over what the search retrieved, with the pruned subtrees' mass
 * kept in (TC-Attention / Tree Cross Attention): every key in a scanned leaf, every sink and window
 * position, is a fine term {@code exp(s·q·k) v}; every pruned subtree of n keys is one coarse term
 * {@code n·exp(s·q·mean + s²·Var(q·k)/2) · (mean value)}: the mean of {@code exp} over the subtree if
 * its scores were normally distributed. Without the variance term the mass of a wide subtree is
 * underestimated (Jensen); with it, a subtree spanning several clusters (scores far from normal) would
 * be overestimated, so the term is capped by the subtree's box bound, which no key in it exceeds.
 * Sinks and window keys inside a pruned subtree are taken out of its summary, so each key counts once. When nothing is pruned (k ≥ N) the result
 * is full softmax attention.
 */
final class TreeAttention {
    private static final int FLUSH = 64;
    /**
     * Terms lighter than e^-30 of the heaviest skip reading their value (a random access into the
     * store) but still count in the normaliser: the output moves by less than N·e^-30 ≈ N·1e-13 of
     * the largest value, far below float precision.
     */
    private static final double NEGLIGIBLE = Math.exp(-30);
    /**
     * Keys scored only from their int8 codes (approximate mode, not reranked) that weigh less than
     * this fraction of the heaviest term skip reading their value: it is taken as their leaf's mean
     * value. Heavier ones read their value row like an exact term.
     */
    private static final double LIGHT = 1e-3;

    private final TreeNodes nodes;
    private final HeadStore store;
    private final TreeSearcher searcher;
    private final LeafIndex leafIndex;

    TreeAttention(TreeNodes nodes, HeadStore store, TreeSearcher searcher, LeafIndex leafIndex) {
        this.nodes = nodes;
        this.store = store;
        this.searcher = searcher;
        this.leafIndex = leafIndex;
    }

    AttentionResult attend(float[] query, float scale, SearchParams params) {
        int keyDim = nodes.keyDim;
        int valueDim = nodes.valueDim;
        Retrieval retrieval = searcher.retrieve(query, params);
        SearchResult retrieved = searcher.result(query, retrieval, params);
        if (retrieved.size() == 0) {
            return new AttentionResult(new float[valueDim], new long[0], new float[0]);
        }

        Extras extras = extrasOutsideScan(query, retrieval, params);
        int[] extraPositions = extras.positions();
        float[] extraScores = extras.scores();
        int extraCount = extraPositions.length;
        Map<Integer, Removed> removedByNode = extras.removedByNode();

        // Coarse terms: one per pruned subtree, on its summary minus the keys attended finely.
        int prunedCount = retrieval.prunedCount;
        float[] coarseLogits = new float[prunedCount];
        int[] coarseCounts = new int[prunedCount];
        float[] sums = new float[keyDim];
        float[] squares = new float[keyDim];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < prunedCount; i++) {
            int node = retrieval.prunedNodes[i];
            Removed removed = removedByNode.get(node);
            int count = nodes.keyCount[node] - (removed == null ? 0 : removed.count);
            coarseCounts[i] = count;
            if (count == 0) {
                continue;
            }
            float meanScore;
            float variance;
            if (removed == null) {
                meanScore = Dot.dot(query, 0, nodes.keySum, node * keyDim, keyDim) / count;
                variance = nodes.scoreVariance(query, nodes.keySum, nodes.keySquares, node * keyDim, count);
            } else {
                for (int d = 0; d < keyDim; d++) {
                    sums[d] = nodes.keySum[node * keyDim + d] - removed.keySum[d];
                    squares[d] = nodes.keySquares[node * keyDim + d] - removed.keySquares[d];
                }
                meanScore = Dot.dot(query, 0, sums, 0, keyDim) / count;
                variance = nodes.scoreVariance(query, sums, squares, 0, count);
            }
            float gaussian = scale * meanScore + scale * scale * variance / 2;
            coarseLogits[i] = Math.min(gaussian, scale * nodes.bound(query, node));
            max = Math.max(max, coarseLogits[i]);
        }
        for (int i = 0; i < retrieval.scannedCount; i++) {
            max = Math.max(max, scale * retrieval.scannedScores[i]);
        }
        for (int i = 0; i < extraCount; i++) {
            max = Math.max(max, scale * extraScores[i]);
        }

        // Fine terms go in batches of FLUSH: first every value row of the batch is copied out of the
        // store (independent loads the CPU overlaps; reading and adding row by row stalls on each
        // random access), then summed in float lanes and flushed into doubles, so each partial sum
        // carries the rounding of at most FLUSH float additions.
        double[] output = new double[valueDim];
        float[] partial = new float[valueDim];
        float[] rows = new float[FLUSH * valueDim];
        float[] rowWeights = new float[FLUSH];
        double denominator = 0;
        int pending = 0;
        int fineCount = retrieval.scannedCount + extraCount;
        int lightLeaf = -1;
        double lightMass = 0;
        for (int i = 0; i < fineCount; i++) {
            boolean scannedTerm = i < retrieval.scannedCount;
            float score = scannedTerm ? retrieval.scannedScores[i] : extraScores[i - retrieval.scannedCount];
            int position = scannedTerm ? retrieval.scannedPositions[i] : extraPositions[i - retrieval.scannedCount];
            double weight = Math.exp(scale * score - max);
            denominator += (float) weight;
            if (weight < NEGLIGIBLE) {
                continue;
            }
            if (scannedTerm && !retrieval.scannedExact[i] && weight < LIGHT) {
                // Keys of one leaf are scanned together, so a leaf's light mass is complete when the leaf changes.
                int leaf = leafIndex.leafOf(position);
                if (leaf != lightLeaf) {
                    addLight(lightLeaf, lightMass, partial);
                    lightLeaf = leaf;
                    lightMass = 0;
                }
                lightMass += weight;
                continue;
            }
            store.readValue(position, rows, pending * valueDim);
            rowWeights[pending++] = (float) weight;
            if (pending == FLUSH) {
                sumRows(rows, rowWeights, pending, partial, output);
                pending = 0;
            }
        }
        addLight(lightLeaf, lightMass, partial);
        sumRows(rows, rowWeights, pending, partial, output);
        for (int i = 0; i < prunedCount; i++) {
            if (coarseCounts[i] == 0) {
                continue;
            }
            int node = retrieval.prunedNodes[i];
            double weight = Math.exp(coarseLogits[i] - max);
            denominator += weight * coarseCounts[i];
            if (weight < NEGLIGIBLE) {
                continue;
            }
            Removed removed = removedByNode.get(node);
            Dot.addScaled(nodes.valueSum, node * valueDim, (float) weight, partial, valueDim);
            if (removed != null) {
                Dot.addScaled(removed.valueSum, 0, (float) -weight, partial, valueDim);
            }
            flush(partial, output);
        }

        float[] result = new float[valueDim];
        for (int d = 0; d < valueDim; d++) {
            result[d] = (float) (output[d] / denominator);
        }
        float[] weights = new float[retrieved.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) (Math.exp(scale * retrieved.scores()[i] - max) / denominator);
        }
        return new AttentionResult(result, retrieved.positions(), weights);
    }

    /** Sinks and window positions outside the scanned leaves, their scores, and what they take out of their pruned subtrees. */
    private record Extras(int[] positions, float[] scores, Map<Integer, Removed> removedByNode) {}

    /**
     * Sinks and window positions the scan did not reach are attended finely; each is removed from the
     * summary of the pruned subtree that holds it, so every key counts exactly once.
     */
    private Extras extrasOutsideScan(float[] query, Retrieval retrieval, SearchParams params) {
        int keyDim = nodes.keyDim;
        int valueDim = nodes.valueDim;
        BitSet scanned = asSet(retrieval.scannedLeaves, retrieval.scannedLeafCount);
        BitSet pruned = asSet(retrieval.prunedNodes, retrieval.prunedCount);
        int[] always = searcher.alwaysAttended(params);
        int[] positions = new int[always.length];
        float[] scores = new float[always.length];
        int count = 0;
        Map<Integer, Removed> removedByNode = new HashMap<>();
        float[] key = new float[keyDim];
        float[] value = new float[valueDim];
        for (int position : always) {
            int leaf = leafIndex.leafOf(position);
            if (scanned.get(leaf)) {
                continue;
            }
            store.readKey(position, key, 0);
            store.readValue(position, value, 0);
            positions[count] = position;
            scores[count++] = Dot.dot(query, 0, key, 0, keyDim);
            int node = leaf;
            while (!pruned.get(node)) {
                node = nodes.parent[node];
            }
            removedByNode.computeIfAbsent(node, n -> new Removed(keyDim, valueDim)).add(key, value);
        }
        return new Extras(Arrays.copyOf(positions, count), Arrays.copyOf(scores, count), removedByNode);
    }

    private BitSet asSet(int[] nodeIds, int count) {
        BitSet set = new BitSet(nodes.count);
        for (int i = 0; i < count; i++) {
            set.set(nodeIds[i]);
        }
        return set;
    }

    /** A leaf's light keys, weighted by their code scores, each taken to carry the leaf's mean value. */
    private void addLight(int leaf, double mass, float[] partial) {
        if (leaf >= 0 && mass > 0) {
            Dot.addScaled(nodes.valueSum, leaf * nodes.valueDim, (float) (mass / nodes.keyCount[leaf]), partial,
                    nodes.valueDim);
        }
    }

    /** The fine positions and pruned-subtree summaries {@link #attend} would use, for attention elsewhere. */
    TreeRetrieval retrieve(float[] query, SearchParams params) {
        int keyDim = nodes.keyDim;
        int valueDim = nodes.valueDim;
        Retrieval retrieval = searcher.retrieve(query, params);
        Extras extras = extrasOutsideScan(query, retrieval, params);
        int[] positions = Arrays.copyOf(retrieval.scannedPositions, retrieval.scannedCount + extras.positions().length);
        System.arraycopy(extras.positions(), 0, positions, retrieval.scannedCount, extras.positions().length);
        Map<Integer, Removed> removedByNode = extras.removedByNode();
        List<TreeRetrieval.Summary> summaries = new ArrayList<>(retrieval.prunedCount);
        for (int i = 0; i < retrieval.prunedCount; i++) {
            int node = retrieval.prunedNodes[i];
            Removed removed = removedByNode.get(node);
            int keys = nodes.keyCount[node] - (removed == null ? 0 : removed.count);
            if (keys == 0) {
                continue;
            }
            float[] meanKey = new float[keyDim];
            for (int d = 0; d < keyDim; d++) {
                float sum = nodes.keySum[node * keyDim + d] - (removed == null ? 0 : removed.keySum[d]);
                meanKey[d] = sum / keys;
            }
            float[] valueSum = Arrays.copyOfRange(nodes.valueSum, node * valueDim, (node + 1) * valueDim);
            if (removed != null) {
                for (int d = 0; d < valueDim; d++) {
                    valueSum[d] -= removed.valueSum[d];
                }
            }
            summaries.add(new TreeRetrieval.Summary(meanKey, valueSum, keys));
        }
        return new TreeRetrieval(positions, summaries);
    }

    private static void sumRows(float[] rows, float[] weights, int count, float[] partial, double[] output) {
        int valueDim = partial.length;
        for (int r = 0; r < count; r++) {
            Dot.addScaled(rows, r * valueDim, weights[r], partial, valueDim);
        }
        flush(partial, output);
    }

    private static void flush(float[] partial, double[] output) {
        for (int d = 0; d < output.length; d++) {
            output[d] += partial[d];
            partial[d] = 0;
        }
    }

    /** Keys and values attended finely although they sit inside a pruned subtree. */
    private static final class Removed {
        final float[] keySum;
        final float[] keySquares;
        final float[] valueSum;
        int count;

        Removed(int keyDim, int valueDim) {
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
}
