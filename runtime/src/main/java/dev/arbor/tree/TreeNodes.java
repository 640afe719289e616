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
     * keys, each as int8 levels of a per-node scale ({@link #sketchScales}). The beam ranks nodes from
     * this sketch: a quarter of the bytes of the fp32 sums it summarises, and ranking needs no more
     * precision.
     */
    byte[] sketches;
    /**
     * Per node, {@value #SCALES} floats, all that {@link #moments} reads besides the sketch and the
     * directions: the sketch's two scales (mean, spread), then the weights of its two directions in the
     * variance of q·k, {@code λ_r · scale_r²}, or {@link #NO_DIRECTIONS}. Written by
     * {@link #refreshSketch}, so a node's moments read one cache line of scalars instead of five
     * scattered ones (its count, its direction scales, its projection sums and squares): a search
     * at 1M keys takes the moments of about 1,300 nodes per head, each a cold read.
     */
    float[] sketchScales;
    private static final int SCALES = 2 + PrincipalDirections.RANKED;
    private static final int LINE_BYTES = 64;
    /** The sum of what a touch loaded: stored so the compiler keeps those loads. */
    private int touched;
    /** The first direction weight of a node without directions (real weights are at least 0). */
    private static final float NO_DIRECTIONS = -1;
    /**
     * Per node, {@link PrincipalDirections#COUNT} unit directions of its keys' largest variance as
     * int8 levels ({@code COUNT · keyDim} bytes, one scale per direction in {@link #directionScales});
     * all zero for a node without them. A leaf gets them when it is split off, from its keys then, and
     * again from its keys once it has filled further (see {@code AttentionTree}).
     * Along each direction the node keeps the sum and the sum of squares of the keys' projections, so
     * the variance along it stays exact as keys arrive; its sketch's spreads then hold only what the
     * {@link PrincipalDirections#RANKED} directions leave ({@link #refreshSketch}), and {@link #moments}
     * adds those back per query; {@link #fineSpread} adds the others where a ranking needs more precision.
     */
    byte[] directions;
    float[] directionScales;
    float[] projectionSums;
    float[] projectionSquares;
    /**
     * Nodes whose sums changed since their sketch was written, each listed once: an insert changes
     * every node on its path, and rewriting their sketches at once took a tenth of an insert (dim 64,
     * 1M keys: 1.0 of 9.6 µs), while only a search reads them. {@link #refreshStaleSketches} writes
     * them before one.
     */
    private int[] staleNodes = new int[16];
    private int staleCount;
    private boolean[] stale = new boolean[16];
    /** Directions per node: {@link PrincipalDirections#COUNT}, or none for keys where they do not pay. */
    private final int directionCount;
    private final float[] scratchSums;
    private final float[] scratchSquares;
    private final float[] scratchDirection;
    /** The workspace of the nodes' direction fits; null where nodes keep no directions. */
    private final PrincipalDirections fits;
    /** Stored directions of a node as floats, {@code [directionCount][keyDim]}, while they are set or refined. */
    private final float[] storedDirections;
    private final float[][] startDirections;
    /** Scratch: keys' projections on directions, and the points standing for a node's children. */
    private float[] projections = new float[0];
    private float[] childPoints = new float[0];

    /** Nodes with room for {@code directionCount} directions each: 0 where they do not pay. */
    TreeNodes(int keyDim, int valueDim, int directionCount) {
        this.keyDim = keyDim;
        this.valueDim = valueDim;
        this.directionCount = directionCount;
        this.fits = directionCount > 0 ? new PrincipalDirections(keyDim) : null;
        this.storedDirections = new float[directionCount * keyDim];
        this.startDirections = new float[directionCount][keyDim];
        this.keySum = new float[16 * keyDim];
        this.keySquares = new float[16 * keyDim];
        this.valueSum = new float[16 * valueDim];
        this.lower = new float[16 * keyDim];
        this.upper = new float[16 * keyDim];
        this.sketches = new byte[16 * 2 * keyDim];
        this.sketchScales = new float[16 * SCALES];
        this.directions = new byte[16 * directionCount * keyDim];
        this.directionScales = new float[16 * directionCount];
        this.projectionSums = new float[16 * directionCount];
        this.projectionSquares = new float[16 * directionCount];
        this.scratchSums = new float[keyDim];
        this.scratchSquares = new float[keyDim];
        this.scratchDirection = new float[keyDim];
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
        Arrays.fill(sketchScales, node * SCALES, node * SCALES + 2, 0f);
        Arrays.fill(sketchScales, node * SCALES + 2, (node + 1) * SCALES, NO_DIRECTIONS);
        int r = directionCount;
        Arrays.fill(directions, node * r * keyDim, (node + 1) * r * keyDim, (byte) 0);
        Arrays.fill(directionScales, node * r, (node + 1) * r, 0f);
        Arrays.fill(projectionSums, node * r, (node + 1) * r, 0f);
        Arrays.fill(projectionSquares, node * r, (node + 1) * r, 0f);
    }

    /** Adds a key to the node's summary; its sketch follows at {@link #refreshSketch}. */
    void addKey(int node, float[] key, int keyOffset, float[] value) {
        keyCount[node]++;
        Dot.accumulate(key, keyOffset, keySum, keySquares, lower, upper, node * keyDim, keyDim);
        Dot.add(value, 0, valueSum, node * valueDim, valueDim);
        for (int r = 0; r < directionCount; r++) {
            int slot = node * directionCount + r;
            if (directionScales[slot] != 0) {
                float projection = projection(key, keyOffset, slot);
                projectionSums[slot] += projection;
                projectionSquares[slot] += projection * projection;
            }
        }
    }

    /** Sets the node's value sum to {@code sum} less the value sum of {@code other}. */
    void setValueSum(int node, float[] sum, int other) {
        for (int d = 0; d < valueDim; d++) {
            valueSum[node * valueDim + d] = sum[d] - valueSum[other * valueDim + d];
        }
    }

    /** Fits the node's directions to its keys, the {@code count} rows of {@code keys}; refresh its sketch afterwards. */
    void fitDirections(int node, float[] keys, int count) {
        setDirections(node, fits.of(keys, count), keys, count);
    }

    /**
     * Gives the node the unit {@code unitDirections} and their projection sums over its keys, the
     * {@code count} rows of {@code keys}; refresh its sketch afterwards.
     */
    void setDirections(int node, float[][] unitDirections, float[] keys, int count) {
        for (int r = 0; r < directionCount; r++) {
            int slot = node * directionCount + r;
            float[] direction = unitDirections[r];
            float largest = 0;
            for (float x : direction) {
                largest = Math.max(largest, Math.abs(x));
            }
            float scale = largest / 127f;
            for (int d = 0; d < keyDim; d++) {
                directions[slot * keyDim + d] = scale == 0 ? 0 : (byte) Math.round(direction[d] / scale);
                // The stored direction once in floats, so each key's projection is one float dot product.
                storedDirections[r * keyDim + d] = directions[slot * keyDim + d] * scale;
            }
            directionScales[slot] = scale;
            projectionSums[slot] = 0;
            projectionSquares[slot] = 0;
        }
        if (count == 0) {
            return;
        }
        projections = projections.length >= directionCount * count ? projections : new float[directionCount * count];
        RowProducts.dots(storedDirections, directionCount, keys, count, keyDim, projections, count);
        for (int r = 0; r < directionCount; r++) {
            int slot = node * directionCount + r;
            for (int i = r * count; i < (r + 1) * count; i++) {
                projectionSums[slot] += projections[i];
                projectionSquares[slot] += projections[i] * projections[i];
            }
        }
    }

    /**
     * Gives an internal node directions fitted to its children's summaries: each child stands for
     * its mean plus and minus √(COUNT·λ) along each of its own directions (points whose spread is the
     * child's along them), and the projection sums follow from the children's means and spreads. A node
     * that has directions refines them ({@link PrincipalDirections#refined}): it refits every other new
     * child, so they move little. Refresh its sketch afterwards.
     */
    void fitDirectionsToChildren(int node) {
        int children = memberCount[node];
        for (int c = 0; c < children; c++) {
            refreshIfStale(members[node][c]);
        }
        int r = directionCount;
        int perChild = 2 * r;
        int pointFloats = children * perChild * keyDim;
        float[] points = childPoints.length >= pointFloats ? childPoints : (childPoints = new float[pointFloats]);
        for (int c = 0; c < children; c++) {
            int child = members[node][c];
            float inverse = 1f / keyCount[child];
            for (int s = 0; s < r; s++) {
                int slot = child * r + s;
                float reach = (float) Math.sqrt(r * directionVariance(child, s)) * directionScales[slot];
                for (int sign = 0; sign < 2; sign++) {
                    int at = (c * perChild + 2 * s + sign) * keyDim;
                    for (int d = 0; d < keyDim; d++) {
                        float along = reach * directions[slot * keyDim + d];
                        points[at + d] = keySum[child * keyDim + d] * inverse + (sign == 0 ? along : -along);
                    }
                }
            }
        }
        setDirections(node, fittedDirections(node, points, children * perChild), points, 0);
        float[] direction = new float[keyDim];
        float[] mean = new float[1];
        float[] spread = new float[1];
        for (int s = 0; s < r; s++) {
            int slot = node * r + s;
            for (int d = 0; d < keyDim; d++) {
                direction[d] = directions[slot * keyDim + d] * directionScales[slot];
            }
            for (int c = 0; c < children; c++) {
                int child = members[node][c];
                float sum = Dot.dot(direction, 0, keySum, child * keyDim, keyDim);
                moments(direction, child, mean, spread, 0);
                projectionSums[slot] += sum;
                projectionSquares[slot] += keyCount[child] * spread[0] * spread[0] + sum * sum / keyCount[child];
            }
        }
    }

    /**
     * Unit directions of the {@code count} rows of {@code points}, which are the node's keys (or stand
     * for them) now: refined from the directions the node has, fitted afresh if it has none.
     */
    float[][] fittedDirections(int node, float[] points, int count) {
        if (!hasDirections(node)) {
            return fits.of(points, count);
        }
        return fits.refined(points, count, unitDirections(node));
    }

    /** The node's directions as unit vectors, as stored (the int8 levels times their scale), in scratch. */
    private float[][] unitDirections(int node) {
        float[][] unit = startDirections;
        for (int r = 0; r < directionCount; r++) {
            int slot = node * directionCount + r;
            for (int d = 0; d < keyDim; d++) {
                unit[r][d] = directions[slot * keyDim + d] * directionScales[slot];
            }
        }
        return unit;
    }

    /** Whether nodes keep principal directions at all (the tree decided they pay for its keys). */
    boolean keepsDirections() {
        return directionCount > 0;
    }

    private boolean hasDirections(int node) {
        return keepsDirections() && directionScales[node * directionCount] != 0;
    }

    /** A key's coordinate along a stored direction (as stored: the int8 levels times their scale). */
    private float projection(float[] key, int keyOffset, int slot) {
        float[] row = key;
        if (keyOffset != 0) {
            System.arraycopy(key, keyOffset, scratchDirection, 0, keyDim);
            row = scratchDirection;
        }
        return Dot.dot(row, directions, slot * keyDim, keyDim) * directionScales[slot];
    }

    /** Variance of the node's keys along its r-th stored direction (0 without one). */
    private float directionVariance(int node, int r) {
        int slot = node * directionCount + r;
        if (directionScales[slot] == 0) {
            return 0;
        }
        float mean = projectionSums[slot] / keyCount[node];
        return Math.max(0f, projectionSquares[slot] / keyCount[node] - mean * mean);
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
        markStale(node);
    }

    /** Notes that the node's sums changed: its sketch is rewritten at the next {@link #refreshStaleSketches}. */
    void markStale(int node) {
        if (stale[node]) {
            return;
        }
        stale[node] = true;
        if (staleCount == staleNodes.length) {
            staleNodes = Arrays.copyOf(staleNodes, 2 * staleCount);
        }
        staleNodes[staleCount++] = node;
    }

    /** Rewrites every stale sketch: before a search, which reads them. */
    void refreshStaleSketches() {
        for (int i = 0; i < staleCount; i++) {
            refreshIfStale(staleNodes[i]);
        }
        staleCount = 0;
    }

    /** Rewrites the node's sketch if its sums changed since it was written. */
    private void refreshIfStale(int node) {
        if (stale[node]) {
            refreshSketch(node);
            stale[node] = false;
        }
    }

    /** Rewrites the node's sketch from its sums: after {@link #addKey}s, before the next search. */
    void refreshSketch(int node) {
        if (!hasDirections(node)) {
            Dot.sketch(keySum, keySquares, node * keyDim, keyCount[node], keyDim, sketches, node * 2 * keyDim,
                    sketchScales, node * SCALES);
            Arrays.fill(sketchScales, node * SCALES + 2, (node + 1) * SCALES, NO_DIRECTIONS);
            return;
        }
        // The spreads keep what the directions leave: Var_d − Σ_r λ_r u_rd² (clamped at zero by the sketch).
        System.arraycopy(keySum, node * keyDim, scratchSums, 0, keyDim);
        System.arraycopy(keySquares, node * keyDim, scratchSquares, 0, keyDim);
        int n = keyCount[node];
        for (int r = 0; r < PrincipalDirections.RANKED; r++) {
            int slot = node * directionCount + r;
            float weight = n * directionVariance(node, r) * directionScales[slot] * directionScales[slot];
            Dot.subtractSquares(directions, slot * keyDim, weight, scratchSquares, keyDim);
        }
        Dot.sketch(scratchSums, scratchSquares, 0, n, keyDim, sketches, node * 2 * keyDim, sketchScales,
                node * SCALES);
        for (int r = 0; r < PrincipalDirections.RANKED; r++) {
            float scale = directionScales[node * directionCount + r];
            sketchScales[node * SCALES + 2 + r] = directionVariance(node, r) * scale * scale;
        }
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
     * Mean and standard deviation of q·k over the node's keys (from its sketch and its principal
     * directions, where it has them) into means[i] and spreads[i]. The beam ranks subtrees by mean +
     * optimism · spread: a wide cluster whose mean scores a little lower can hold better keys than a
     * tight one; ranking by mean alone misses them.
     */
    void moments(float[] query, int node, float[] means, float[] spreads, int i) {
        int scales = node * SCALES;
        float firstWeight = sketchScales[scales + 2];
        if (firstWeight == NO_DIRECTIONS) {
            Dot.sketchMoments(query, sketches, node * 2 * keyDim, keyDim, sketchScales, scales, means, spreads, i);
            return;
        }
        Dot.sketchMoments(query, sketches, node * 2 * keyDim, keyDim, sketchScales, scales, directions,
                node * directionCount * keyDim, firstWeight, sketchScales[scales + 3], means, spreads, i);
    }

    /**
     * Loads one element of each cache line {@link #moments} reads for the node (its scales, its sketch,
     * its first directions) and returns their sum, so that a search can touch all of a level's
     * candidates in one loop of independent loads before taking their moments one by one.
     */
    private int touchMoments(int node) {
        int sum = (int) sketchScales[node * SCALES];
        for (int j = node * 2 * keyDim, end = j + 2 * keyDim; j < end; j += LINE_BYTES) {
            sum += sketches[j];
        }
        if (directionCount > 0) {
            for (int j = node * directionCount * keyDim, end = j + PrincipalDirections.RANKED * keyDim; j < end;
                    j += LINE_BYTES) {
                sum += directions[j];
            }
        }
        return sum;
    }

    /** {@link #touchMoments(int)} for the first {@code count} of {@code nodeIds}. */
    void touchMoments(int[] nodeIds, int count) {
        int sum = 0;
        for (int i = 0; i < count; i++) {
            sum += touchMoments(nodeIds[i]);
        }
        touched = sum;
    }

    /**
     * Loads one float of each cache line of the value sums of the first {@code count} of
     * {@code nodeIds}, in one loop of independent loads, before attention adds them one by one.
     */
    void touchValueSums(int[] nodeIds, int count) {
        float sum = 0;
        for (int i = 0; i < count; i++) {
            for (int j = nodeIds[i] * valueDim, end = j + valueDim; j < end; j += LINE_BYTES / Float.BYTES) {
                sum += valueSum[j];
            }
        }
        touched = (int) sum;
    }

    /**
     * Loads one element of each cache line {@link #fineSpread} reads for the nodes {@code nodeIds[order[0 ..
     * count)]} (their further directions, direction scales, projection sums and squares, key count), in
     * one loop of independent loads, before their spreads are taken one by one.
     */
    void touchFineSpreads(int[] nodeIds, int[] order, int count) {
        float sum = 0;
        for (int rank = 0; rank < count; rank++) {
            int node = nodeIds[order[rank]];
            int slot = node * directionCount + PrincipalDirections.RANKED;
            sum += directionScales[slot] + projectionSums[slot] + projectionSquares[slot] + keyCount[node];
            for (int j = slot * keyDim, end = (node + 1) * directionCount * keyDim; j < end; j += LINE_BYTES) {
                sum += directions[j];
            }
        }
        touched = (int) sum;
    }

    /**
     * The standard deviation of q·k over the node's keys from all its directions, given {@code spread}
     * from {@link #moments}, which reads only the {@link PrincipalDirections#RANKED} first: along each
     * further direction u of variance λ, the sketch counted λ·Σ_d q_d²·u_d² as if the dimensions were
     * independent, where the keys' scores vary by λ·(q·u)². {@code querySquares} holds q_d²;
     * {@code weights} is scratch of {@code COUNT − RANKED} floats.
     */
    float fineSpread(float[] query, float[] querySquares, int node, float spread, float[] weights) {
        int further = directionCount - PrincipalDirections.RANKED;
        for (int r = 0; r < further; r++) {
            int slot = node * directionCount + PrincipalDirections.RANKED + r;
            weights[r] = directionVariance(node, PrincipalDirections.RANKED + r) * directionScales[slot]
                    * directionScales[slot];
        }
        float variance = spread * spread + Dot.directionCorrection(query, querySquares, directions,
                (node * directionCount + PrincipalDirections.RANKED) * keyDim, further, keyDim, weights);
        return (float) Math.sqrt(Math.max(0f, variance));
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

    /**
     * Loads one float of each cache line of the boxes (lower and upper corners) of the first
     * {@code count} of {@code nodeIds}, in one loop of independent loads, before their bounds are taken
     * one by one.
     */
    void touchBoxes(int[] nodeIds, int count) {
        float sum = 0;
        for (int i = 0; i < count; i++) {
            for (int j = nodeIds[i] * keyDim, end = j + keyDim; j < end; j += LINE_BYTES / Float.BYTES) {
                sum += lower[j] + upper[j];
            }
        }
        touched = (int) sum;
    }

    /** Heap and array bytes the nodes take, for the memory-per-key figure. */
    long bytes() {
        long bytes = (long) parent.length * 4 * 4 + (long) members.length * 8 + stale.length
                + (long) staleNodes.length * 4
                + (long) (keySum.length + keySquares.length + valueSum.length + lower.length + upper.length) * 4
                + sketches.length + (long) sketchScales.length * 4 + directions.length
                + (long) (directionScales.length + projectionSums.length + projectionSquares.length) * 4;
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
        stale = Arrays.copyOf(stale, capacity);
        members = Arrays.copyOf(members, capacity);
        keySum = Arrays.copyOf(keySum, capacity * keyDim);
        keySquares = Arrays.copyOf(keySquares, capacity * keyDim);
        valueSum = Arrays.copyOf(valueSum, capacity * valueDim);
        lower = Arrays.copyOf(lower, capacity * keyDim);
        upper = Arrays.copyOf(upper, capacity * keyDim);
        sketches = Arrays.copyOf(sketches, capacity * 2 * keyDim);
        sketchScales = Arrays.copyOf(sketchScales, capacity * SCALES);
        int r = directionCount;
        directions = Arrays.copyOf(directions, capacity * r * keyDim);
        directionScales = Arrays.copyOf(directionScales, capacity * r);
        projectionSums = Arrays.copyOf(projectionSums, capacity * r);
        projectionSquares = Arrays.copyOf(projectionSquares, capacity * r);
    }
}
