package dev.arbor.ops;

import dev.arbor.onnx.TensorData;
import dev.arbor.ops.RetrievedAttention.Summaries;
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

    /** Collects retrieved rows and summaries head by head. Not thread-safe; build once per query. */
    public static final class Builder {
        private final int dim;
        private final int valueDim;
        // Per head growable arrays of rows and summaries: a decoder step adds hundreds per head for 40
        // heads, too many to box or clone one by one.
        private final long[][] keys;
        private final int[] keyCounts;
        private final float[][] means;
        private final float[][] valueSums;
        private final float[][] counts;
        private final int[] summaryCounts;

        private Builder(int heads, int dim, int valueDim) {
            if (heads < 1 || dim < 1 || valueDim < 1) {
                throw new IllegalArgumentException("heads, dim and valueDim must be >= 1, got " + heads + ", " + dim
                        + ", " + valueDim);
            }
            this.dim = dim;
            this.valueDim = valueDim;
            this.keys = new long[heads][16];
            this.keyCounts = new int[heads];
            this.means = new float[heads][16 * dim];
            this.valueSums = new float[heads][16 * valueDim];
            this.counts = new float[heads][16];
            this.summaryCounts = new int[heads];
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
            return this;
        }

        public RetrievalBatch build() {
            int heads = keys.length;
            // At least one slot, so a batch of summaries only still has a well-formed [H, R] mask.
            int r = Math.max(1, Arrays.stream(keyCounts).max().orElse(0));
            int s = Arrays.stream(summaryCounts).max().orElse(0);
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
                System.arraycopy(means[h], 0, meanData, h * s * dim, n * dim);
                System.arraycopy(valueSums[h], 0, sumData, h * s * valueDim, n * valueDim);
                System.arraycopy(counts[h], 0, countData, h * s, n);
            }
            Summaries summaries = new Summaries(
                    TensorData.floats("summary_means", meanData, heads, s, dim),
                    TensorData.floats("summary_value_sums", sumData, heads, s, valueDim),
                    TensorData.floats("summary_counts", countData, heads, s));
            return new RetrievalBatch(heads, r, rows, TensorData.longs("ids", ids, heads, r),
                    TensorData.bools("mask", mask, heads, r), summaries);
        }

        private void checkHead(int head) {
            if (head < 0 || head >= keys.length) {
                throw new IllegalArgumentException("head must be in [0, " + keys.length + "), got " + head);
            }
        }
    }
}
