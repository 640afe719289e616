package dev.arbor.ops;

import dev.arbor.onnx.TensorData;
import dev.arbor.ops.RetrievedAttention.Summaries;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
        // Per head a growable array of rows: a decoder step adds thousands, too many to box.
        private final long[][] keys;
        private final int[] keyCounts;
        private final List<List<float[]>> means = new ArrayList<>();
        private final List<List<float[]>> valueSums = new ArrayList<>();
        private final List<List<Long>> counts = new ArrayList<>();

        private Builder(int heads, int dim, int valueDim) {
            if (heads < 1 || dim < 1 || valueDim < 1) {
                throw new IllegalArgumentException("heads, dim and valueDim must be >= 1, got " + heads + ", " + dim
                        + ", " + valueDim);
            }
            this.dim = dim;
            this.valueDim = valueDim;
            this.keys = new long[heads][16];
            this.keyCounts = new int[heads];
            for (int h = 0; h < heads; h++) {
                means.add(new ArrayList<>());
                valueSums.add(new ArrayList<>());
                counts.add(new ArrayList<>());
            }
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
            means.get(head).add(meanKey.clone());
            valueSums.get(head).add(valueSum.clone());
            counts.get(head).add(count);
            return this;
        }

        public RetrievalBatch build() {
            int heads = keys.length;
            // At least one slot, so a batch of summaries only still has a well-formed [H, R] mask.
            int r = Math.max(1, Arrays.stream(keyCounts).max().orElse(0));
            int s = counts.stream().mapToInt(List::size).max().orElse(0);
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
                for (int j = 0; j < counts.get(h).size(); j++) {
                    System.arraycopy(means.get(h).get(j), 0, meanData, (h * s + j) * dim, dim);
                    System.arraycopy(valueSums.get(h).get(j), 0, sumData, (h * s + j) * valueDim, valueDim);
                    countData[h * s + j] = counts.get(h).get(j);
                }
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
