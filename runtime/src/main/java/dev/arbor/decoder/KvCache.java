package dev.arbor.decoder;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import dev.arbor.ops.RetrievalBatch;
import dev.arbor.store.HeadStore;
import dev.arbor.tree.AttentionTree;
import dev.arbor.tree.GroupRetrieval;
import dev.arbor.tree.HeadWorkers;
import dev.arbor.tree.SearchParams;
import dev.arbor.tree.TreeSettings;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One layer's keys and values, off-heap and position-major ({@code [position][kvHead][headSize]}), so the
 * first {@code n} positions are one contiguous slice ONNX Runtime reads without a copy. Each kv head's
 * keys and values also go into its {@link AttentionTree} (over its own {@link HeadStore}), kept current
 * on every append so any request may use tree attention.
 *
 * <p>The trees hold only the positions tree attention would not attend finely anyway: not the first
 * {@code heldSinks} positions, and each later position only once it has left the last {@code heldWindow}.
 * Attention takes those held-out positions whole ({@link #heldOut}), so a search never has to take
 * them back out of the subtree summaries it prunes: with them inside, every search found each sink and
 * window key's subtree and subtracted its rows, a cost that grew with the tree's depth. Tree position
 * {@code t} is cache position {@code heldSinks + t}.
 *
 * <p>The positions that leave the window go into the trees on a worker beside the caller ({@link
 * HeadWorkers#startBeside}), while the caller runs the layer's graphs, which never read the trees; a
 * tree is next read by this layer's next search, which {@link #tree} makes wait for them.
 */
final class KvCache {
    /** Small segments: a context allocates one per head up front, and a decoder has layers × kv heads. */
    private static final int SEGMENT_ROWS = 4096;

    private final int kvDim;
    private final int headSize;
    private final int heldSinks;
    private final int heldWindow;
    /** Positions in every tree: the cache positions {@code [heldSinks, heldSinks + treeSize)}. */
    private int treeSize;
    private final List<AttentionTree> trees = new ArrayList<>();
    /**
     * Per kv head, reused by that head's tree retrievals: a sequence decodes one step at a time, and a
     * decode step's batch reads each head's summaries in place.
     */
    private final GroupRetrieval[] retrievals;
    /** This layer's retrieval batch and the off-heap tensors it is built into, reused step after step. */
    private final RetrievalBatch.Builder batch;
    private final RetrievalBatch.Workspace workspace = new RetrievalBatch.Workspace();
    /** The rows this layer's batch points at, reused step after step. */
    private final AttendedRows attendedRows;
    /** The attention scale as a one-float off-heap tensor, written before each run. */
    private final FloatBuffer scale = ByteBuffer.allocateDirect(Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    private FloatBuffer keys;
    private FloatBuffer values;
    private int size;
    /** The last inserts started beside the caller; the trees may be read once it is done. */
    private CompletableFuture<Void> inserts = CompletableFuture.completedFuture(null);

    /**
     * A cache whose trees leave out the first {@code heldSinks} positions and the last {@code heldWindow}
     * (the sinks and window of the tree search the context starts with).
     */
    KvCache(int kvHeads, int headSize, TreeSettings treeSettings, int initialCapacity, int heldSinks, int heldWindow) {
        if (heldSinks < 0 || heldWindow < 0) {
            throw new IllegalArgumentException(
                    "held-out sinks and window must be zero or more, got " + heldSinks + " and " + heldWindow);
        }
        this.kvDim = kvHeads * headSize;
        this.headSize = headSize;
        this.heldSinks = heldSinks;
        this.heldWindow = heldWindow;
        this.retrievals = new GroupRetrieval[kvHeads];
        this.batch = RetrievalBatch.builder(1, headSize, headSize);
        this.attendedRows = new AttendedRows(headSize);
        for (int h = 0; h < kvHeads; h++) {
            HeadStore store = HeadStore.builder().keyDim(headSize).valueDim(headSize).segmentRows(SEGMENT_ROWS).build();
            trees.add(AttentionTree.builder().store(store).settings(treeSettings).build());
            retrievals[h] = new GroupRetrieval(headSize, headSize);
        }
        this.keys = allocate((long) kvDim * initialCapacity);
        this.values = allocate((long) kvDim * initialCapacity);
    }

    /**
     * Appends {@code T} positions given as {@code [T][kvDim]} row-major arrays; the positions that leave
     * the window go into the trees on {@code workers} ({@link #tree} waits for them).
     */
    void append(FloatBuffer newKeys, FloatBuffer newValues, HeadWorkers workers) {
        awaitInserts();
        int count = newKeys.remaining() / kvDim;
        ensureCapacity(size + count);
        keys.put(size * kvDim, newKeys, newKeys.position(), newKeys.remaining());
        values.put(size * kvDim, newValues, newValues.position(), newValues.remaining());
        size += count;
        int from = heldSinks + treeSize;
        int to = size - heldWindow;
        if (to > from) {
            treeSize += to - from;
            // Later appends write only past these positions, and a grown store copies them: these views stay valid.
            FloatBuffer storedKeys = keys;
            FloatBuffer storedValues = values;
            inserts = workers.startBeside(() -> insert(storedKeys, storedValues, from, to));
        }
    }

    /** Cache positions {@code [from, to)} into every kv head's tree. */
    private void insert(FloatBuffer storedKeys, FloatBuffer storedValues, int from, int to) {
        float[] key = new float[headSize];
        float[] value = new float[headSize];
        for (int p = from; p < to; p++) {
            for (int h = 0; h < trees.size(); h++) {
                storedKeys.get(p * kvDim + h * headSize, key);
                storedValues.get(p * kvDim + h * headSize, value);
                trees.get(h).append(key, value);
            }
        }
    }

    /** The cache position of tree position {@code treePosition}. */
    int cachePosition(int treePosition) {
        return heldSinks + treePosition;
    }

    /**
     * {@code params} as the trees see them: the sinks and window it asks for beyond the held-out ones,
     * counted in tree positions (held-out positions are attended whatever {@code params} asks).
     */
    SearchParams treeParams(SearchParams params) {
        int sinks = Math.max(0, params.sinks() - heldSinks);
        int window = Math.max(0, params.window() - heldWindow);
        if (sinks == params.sinks() && window == params.window()) {
            return params;
        }
        return params.toBuilder().sinks(sinks).window(window).build();
    }

    /**
     * The positions no tree holds, ascending, as {@code [from0, to0, from1, to1]}: the held-out sinks,
     * then the recent positions not yet in the trees (empty ranges when there are none).
     */
    int[] heldOut() {
        int sinkEnd = Math.min(heldSinks, size);
        return new int[] {0, sinkEnd, Math.max(sinkEnd, heldSinks + treeSize), size};
    }

    /**
     * The attention tree over one kv head's keys, once every position appended so far that left the
     * window is in it. A head's search on a worker must find the inserts done, not wait for them (they
     * may be queued behind it): the appending thread calls {@link #awaitInserts} before it deals heads.
     */
    AttentionTree tree(int kvHead) {
        awaitInserts();
        return trees.get(kvHead);
    }

    /** Waits for the inserts started beside the caller; rethrows their failure. */
    void awaitInserts() {
        HeadWorkers.await(inserts);
    }

    GroupRetrieval retrieval(int kvHead) {
        return retrievals[kvHead];
    }

    /** This layer's batch builder, emptied for {@code heads} heads. */
    RetrievalBatch.Builder batch(int heads) {
        return batch.reset(heads);
    }

    /** This layer's table of attended rows, emptied. */
    AttendedRows attendedRows() {
        attendedRows.clear();
        return attendedRows;
    }

    RetrievalBatch.Workspace workspace() {
        return workspace;
    }

    /** {@code value} in a one-float direct buffer ONNX Runtime reads in place. */
    FloatBuffer scale(float value) {
        return scale.put(0, value);
    }

    int size() {
        return size;
    }

    /** The first {@code size} positions' keys, as a view over the off-heap store. */
    FloatBuffer keys() {
        return keys.slice(0, size * kvDim);
    }

    FloatBuffer values() {
        return values.slice(0, size * kvDim);
    }

    private void ensureCapacity(int positions) {
        long needed = (long) positions * kvDim;
        if (needed > keys.capacity()) {
            long capacity = Math.max(needed, 2L * keys.capacity());
            if (capacity > Integer.MAX_VALUE) {
                throw new IllegalStateException("context of " + positions + " positions exceeds one layer's store");
            }
            keys = grow(keys, capacity);
            values = grow(values, capacity);
        }
    }

    private FloatBuffer grow(FloatBuffer old, long capacity) {
        FloatBuffer bigger = allocate(capacity);
        bigger.put(0, old, 0, size * kvDim);
        return bigger;
    }

    private static FloatBuffer allocate(long floats) {
        return ByteBuffer.allocateDirect(Math.toIntExact(floats * Float.BYTES)).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
