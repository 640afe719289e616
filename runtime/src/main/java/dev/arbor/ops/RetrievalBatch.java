package dev.arbor.ops;

import dev.arbor.onnx.TensorData;
import dev.arbor.ops.RetrievedAttention.Summaries;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;

/**
 * What a tree search retrieved for every head of one query, padded into the rectangular tensors
 * {@code ai.arbor.AttentionOverIds} takes: row ids {@code [H, R]} with a validity mask, and summaries
 * {@code [H, S, ·]} with count 0 as padding. Heads may retrieve different numbers of keys and summaries;
 * {@code R} and {@code S} are the largest per head. This is the whole of the Java side between a search
 * and the attention run: collect, pad, run.
 *
 * <pre>{@code
 * RetrievalBatch.Builder batch = RetrievalBatch.builder(heads, headSize, headSize);
 * batch.addKeys(h, rowsOfHead);                      // sinks, window and top-k rows of the store table
 * batch.addSummary(h, node.meanKey(), node.valueSum(), node.count());
 * AttentionResult r = attention.runOverIds(queries, keyTable, valueTable, batch.build(), scale);
 * }</pre>
 */
public final class RetrievalBatch {
    private final int heads;
    private final int retrieved;
    private final long[] rows;
    private final TensorData ids;
    private final TensorData mask;
    private final Summaries summaries;

    private RetrievalBatch(int heads, int retrieved, long[] rows, TensorData ids, TensorData mask, Summaries summaries) {
        this.heads = heads;
        this.retrieved = retrieved;
        this.rows = rows;
        this.ids = ids;
        this.mask = mask;
        this.summaries = summaries;
    }

    public static Builder builder(int heads, int dim, int valueDim) {
        return new Builder(heads, dim, valueDim);
    }

    /**
     * Off-heap buffers a {@link Builder#build(Workspace)} writes the batch's tensors into, kept and grown
     * (never shrunk) between builds, so a decoder step neither allocates nor zeroes direct memory and
     * ONNX Runtime reads the tensors in place instead of copying heap arrays. A batch built into a
     * workspace is valid until the next build into the same workspace. Not thread-safe.
     */
    public static final class Workspace {
        private long[] rows = new long[0];
        private LongBuffer ids = LongBuffer.allocate(0);
        private ByteBuffer mask = ByteBuffer.allocate(0);
        private FloatBuffer means = FloatBuffer.allocate(0);
        private FloatBuffer valueSums = FloatBuffer.allocate(0);
        private FloatBuffer counts = FloatBuffer.allocate(0);
        /** Zeros for padding, as long as the longest padding run written so far. */
        private float[] zeros = new float[0];

        private void reserve(int slots, int summaries, int dim, int valueDim) {
            if (rows.length < slots) {
                int capacity = Math.max(slots, 2 * rows.length);
                rows = new long[capacity];
                ids = direct(capacity * (long) Long.BYTES).asLongBuffer();
                mask = direct(capacity);
            }
            if (counts.capacity() < summaries) {
                int capacity = Math.max(summaries, 2 * counts.capacity());
                means = direct(capacity * (long) dim * Float.BYTES).asFloatBuffer();
                valueSums = direct(capacity * (long) valueDim * Float.BYTES).asFloatBuffer();
                counts = direct(capacity * (long) Float.BYTES).asFloatBuffer();
            }
        }

        private float[] zeros(int count) {
            if (zeros.length < count) {
                zeros = new float[Math.max(count, 2 * zeros.length)];
            }
            return zeros;
        }

        private static ByteBuffer direct(long bytes) {
            return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
        }
    }

    public int heads() {
        return heads;
    }

    /** {@code R}: retrieved slots per head, including padding. */
    public int retrieved() {
        return retrieved;
    }

    /** The store row in slot {@code slot} of {@code head}, or -1 for padding; pairs with {@code AttentionResult.weight}. */
    public long row(int head, int slot) {
        return rows[head * retrieved + slot];
    }

    public TensorData ids() {
        return ids;
    }

    public TensorData mask() {
        return mask;
    }

    public Summaries summaries() {
        return summaries;
    }

    /**
     * Collects retrieved rows and summaries head by head. Not thread-safe; build once per query, or
     * {@link #reset} and reuse it (its arrays keep their capacity).
     */
    public static final class Builder {
        private final int dim;
        private final int valueDim;
        private int heads;
        // Per head growable arrays of rows and summaries: a decoder step adds hundreds per head for 40
        // heads, too many to box or clone one by one.
        private long[][] keys = new long[0][];
        private int[] keyCounts = new int[0];
        private float[][] means = new float[0][];
        private float[][] valueSums = new float[0][];
        private float[][] counts = new float[0][];
        private int[] summaryCounts = new int[0];
        // Per head, summaries read in place at build time (see addSummariesByReference), or null.
        private float[][] sharedMeans = new float[0][];
        private float[][] sharedSums = new float[0][];
        private float[][] sharedCounts = new float[0][];

        private Builder(int heads, int dim, int valueDim) {
            if (dim < 1 || valueDim < 1) {
                throw new IllegalArgumentException("dim and valueDim must be >= 1, got " + dim + " and " + valueDim);
            }
            this.dim = dim;
            this.valueDim = valueDim;
            reset(heads);
        }

        /** Empties the builder for a batch of {@code heads} heads, keeping every array's capacity. */
        public Builder reset(int heads) {
            if (heads < 1) {
                throw new IllegalArgumentException("a batch needs at least one head, got " + heads);
            }
            if (keys.length < heads) {
                int old = keys.length;
                keys = Arrays.copyOf(keys, heads);
                keyCounts = Arrays.copyOf(keyCounts, heads);
                means = Arrays.copyOf(means, heads);
                valueSums = Arrays.copyOf(valueSums, heads);
                counts = Arrays.copyOf(counts, heads);
                summaryCounts = Arrays.copyOf(summaryCounts, heads);
                sharedMeans = Arrays.copyOf(sharedMeans, heads);
                sharedSums = Arrays.copyOf(sharedSums, heads);
                sharedCounts = Arrays.copyOf(sharedCounts, heads);
                for (int h = old; h < heads; h++) {
                    keys[h] = new long[16];
                    means[h] = new float[16 * dim];
                    valueSums[h] = new float[16 * valueDim];
                    counts[h] = new float[16];
                }
            }
            this.heads = heads;
            Arrays.fill(keyCounts, 0, heads, 0);
            Arrays.fill(summaryCounts, 0, heads, 0);
            Arrays.fill(sharedMeans, 0, heads, null);
            Arrays.fill(sharedSums, 0, heads, null);
            Arrays.fill(sharedCounts, 0, heads, null);
            return this;
        }

        /** A retrieved key: its row in the store's key and value tables. */
        public Builder addKey(int head, long row) {
            checkHead(head);
            if (row < 0) {
                throw new IllegalArgumentException("store rows are >= 0, got " + row + " for head " + head);
            }
            if (keyCounts[head] == keys[head].length) {
                keys[head] = Arrays.copyOf(keys[head], keyCounts[head] * 2);
            }
            keys[head][keyCounts[head]++] = row;
            return this;
        }

        public Builder addKeys(int head, long... rows) {
            for (long row : rows) {
                addKey(head, row);
            }
            return this;
        }

        /** A pruned subtree standing for {@code count} keys with this mean key and sum of values. */
        public Builder addSummary(int head, float[] meanKey, float[] valueSum, long count) {
            checkHead(head);
            if (meanKey.length != dim || valueSum.length != valueDim) {
                throw new IllegalArgumentException("a summary needs a mean key of " + dim + " and a value sum of "
                        + valueDim + " floats, got " + meanKey.length + " and " + valueSum.length);
            }
            if (count < 1) {
                throw new IllegalArgumentException("a summary stands for at least one key, got count " + count);
            }
            own(head);
            int j = summaryCounts[head]++;
            if (j == counts[head].length) {
                means[head] = Arrays.copyOf(means[head], 2 * j * dim);
                valueSums[head] = Arrays.copyOf(valueSums[head], 2 * j * valueDim);
                counts[head] = Arrays.copyOf(counts[head], 2 * j);
            }
            System.arraycopy(meanKey, 0, means[head], j * dim, dim);
            System.arraycopy(valueSum, 0, valueSums[head], j * valueDim, valueDim);
            counts[head][j] = count;
            return this;
        }

        /**
         * The first {@code count} summaries of flat arrays: mean keys {@code [count][dim]}, value sums
         * {@code [count][valueDim]} and key counts, as {@link #addSummary} takes them one by one.
         */
        public Builder addSummaries(int head, float[] meanKeys, float[] sums, float[] keyCounts, int count) {
            checkSummaries(head, meanKeys, sums, keyCounts, count);
            own(head);
            copySummaries(head, meanKeys, sums, keyCounts, count);
            return this;
        }

        /**
         * As {@link #addSummaries}, but the arrays are read in place when the batch is built instead of
         * copied now: the caller must leave their first {@code count} entries unchanged until then. Saves a
         * copy of every summary in a decoder step, whose summaries outnumber its keys. A head that already
         * has summaries, or gets more later, copies them.
         */
        public Builder addSummariesByReference(int head, float[] meanKeys, float[] sums, float[] keyCounts, int count) {
            checkSummaries(head, meanKeys, sums, keyCounts, count);
            if (summaryCounts[head] != 0) {
                own(head);
                copySummaries(head, meanKeys, sums, keyCounts, count);
                return this;
            }
            sharedMeans[head] = meanKeys;
            sharedSums[head] = sums;
            sharedCounts[head] = keyCounts;
            summaryCounts[head] = count;
            return this;
        }

        private void checkSummaries(int head, float[] meanKeys, float[] sums, float[] keyCounts, int count) {
            checkHead(head);
            if (count < 0 || meanKeys.length < count * dim || sums.length < count * valueDim
                    || keyCounts.length < count) {
                throw new IllegalArgumentException(count + " summaries need " + count * dim + " mean-key floats, "
                        + count * valueDim + " value-sum floats and " + count + " counts, got " + meanKeys.length + ", "
                        + sums.length + " and " + keyCounts.length);
            }
            for (int i = 0; i < count; i++) {
                if (!(keyCounts[i] >= 1)) {
                    throw new IllegalArgumentException("a summary stands for at least one key, got count " + keyCounts[i]);
                }
            }
        }

        /** Turns a head's by-reference summaries into copies, before more are added. */
        private void own(int head) {
            float[] shared = sharedCounts[head];
            if (shared == null) {
                return;
            }
            float[] meanKeys = sharedMeans[head];
            float[] sums = sharedSums[head];
            int count = summaryCounts[head];
            sharedMeans[head] = null;
            sharedSums[head] = null;
            sharedCounts[head] = null;
            summaryCounts[head] = 0;
            copySummaries(head, meanKeys, sums, shared, count);
        }

        private void copySummaries(int head, float[] meanKeys, float[] sums, float[] keyCounts, int count) {
            int j = summaryCounts[head];
            int needed = j + count;
            if (needed > counts[head].length) {
                int capacity = Math.max(needed, 2 * counts[head].length);
                means[head] = Arrays.copyOf(means[head], capacity * dim);
                valueSums[head] = Arrays.copyOf(valueSums[head], capacity * valueDim);
                counts[head] = Arrays.copyOf(counts[head], capacity);
            }
            System.arraycopy(meanKeys, 0, means[head], j * dim, count * dim);
            System.arraycopy(sums, 0, valueSums[head], j * valueDim, count * valueDim);
            System.arraycopy(keyCounts, 0, counts[head], j, count);
            summaryCounts[head] = needed;
        }

        private float[] means(int head) {
            return sharedMeans[head] != null ? sharedMeans[head] : means[head];
        }

        private float[] valueSums(int head) {
            return sharedSums[head] != null ? sharedSums[head] : valueSums[head];
        }

        private float[] counts(int head) {
            return sharedCounts[head] != null ? sharedCounts[head] : counts[head];
        }

        /**
         * The batch in {@code workspace}'s off-heap buffers (ONNX Runtime reads them in place); valid until
         * the next build into the same workspace. Equal to {@link #build()}.
         */
        public RetrievalBatch build(Workspace workspace) {
            int r = slots();
            int s = maxSummaries();
            workspace.reserve(heads * r, heads * s, dim, valueDim);
            long[] rows = workspace.rows;
            LongBuffer ids = workspace.ids;
            ByteBuffer mask = workspace.mask;
            FloatBuffer meanData = workspace.means;
            FloatBuffer sumData = workspace.valueSums;
            FloatBuffer countData = workspace.counts;
            float[] zeros = workspace.zeros(s * Math.max(dim, valueDim));
            for (int h = 0; h < heads; h++) {
                int n = keyCounts[h];
                int at = h * r;
                System.arraycopy(keys[h], 0, rows, at, n);
                Arrays.fill(rows, at + n, at + r, -1);
                ids.put(at, keys[h], 0, n);
                for (int i = 0; i < n; i++) {
                    mask.put(at + i, (byte) 1);
                }
                for (int i = n; i < r; i++) {
                    ids.put(at + i, 0);
                    mask.put(at + i, (byte) 0);
                }
                int m = summaryCounts[h];
                meanData.put(h * s * dim, means(h), 0, m * dim);
                meanData.put((h * s + m) * dim, zeros, 0, (s - m) * dim);
                sumData.put(h * s * valueDim, valueSums(h), 0, m * valueDim);
                sumData.put((h * s + m) * valueDim, zeros, 0, (s - m) * valueDim);
                countData.put(h * s, counts(h), 0, m);
                countData.put(h * s + m, zeros, 0, s - m);
            }
            Summaries summaries = new Summaries(
                    TensorData.floats("summary_means", meanData.slice(0, heads * s * dim), heads, s, dim),
                    TensorData.floats("summary_value_sums", sumData.slice(0, heads * s * valueDim), heads, s, valueDim),
                    TensorData.floats("summary_counts", countData.slice(0, heads * s), heads, s));
            return new RetrievalBatch(heads, r, rows, TensorData.longs("ids", ids.slice(0, heads * r), heads, r),
                    TensorData.bools("mask", mask.slice(0, heads * r).order(ByteOrder.nativeOrder()), heads, r),
                    summaries);
        }

        /** At least one slot, so a batch of summaries only still has a well-formed [H, R] mask. */
        private int slots() {
            int r = 1;
            for (int h = 0; h < heads; h++) {
                r = Math.max(r, keyCounts[h]);
            }
            return r;
        }

        private int maxSummaries() {
            int s = 0;
            for (int h = 0; h < heads; h++) {
                s = Math.max(s, summaryCounts[h]);
            }
            return s;
        }

        public RetrievalBatch build() {
            int r = slots();
            int s = maxSummaries();
            long[] rows = new long[heads * r];
            long[] ids = new long[heads * r];
            boolean[] mask = new boolean[heads * r];
            Arrays.fill(rows, -1);
            float[] meanData = new float[heads * s * dim];
            float[] sumData = new float[heads * s * valueDim];
            float[] countData = new float[heads * s];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < keyCounts[h]; i++) {
                    rows[h * r + i] = keys[h][i];
                    ids[h * r + i] = keys[h][i];
                    mask[h * r + i] = true;
                }
                int n = summaryCounts[h];
                System.arraycopy(means(h), 0, meanData, h * s * dim, n * dim);
                System.arraycopy(valueSums(h), 0, sumData, h * s * valueDim, n * valueDim);
                System.arraycopy(counts(h), 0, countData, h * s, n);
            }
            Summaries summaries = new Summaries(
                    TensorData.floats("summary_means", meanData, heads, s, dim),
                    TensorData.floats("summary_value_sums", sumData, heads, s, valueDim),
                    TensorData.floats("summary_counts", countData, heads, s));
            return new RetrievalBatch(heads, r, rows, TensorData.longs("ids", ids, heads, r),
                    TensorData.bools("mask", mask, heads, r), summaries);
        }

        private void checkHead(int head) {
            if (head < 0 || head >= heads) {
                throw new IllegalArgumentException("head must be in [0, " + heads + "), got " + head);
            }
        }
    }
}
