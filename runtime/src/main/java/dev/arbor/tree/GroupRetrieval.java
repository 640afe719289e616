package dev.arbor.tree;

import java.util.Arrays;

/**
 * What attention elsewhere reads for a group of queries that share one tree (the query heads of one
 * key/value head): per query, as in {@link TreeRetrieval}, the positions attended finely and summaries
 * of every other key, so that fine keys and summaries count each key once. Each fine position comes
 * with its key and value, copied while the search had them at hand: read again from the store by
 * position, they are scattered over the whole context and miss in cache. Held in flat arrays that the
 * next {@link AttentionTree#retrieve(float[], int, int, float, SearchParams, GroupRetrieval)} overwrites:
 * a decoder step retrieves for every kv head of every layer, and fresh objects per summary cost more
 * than the search. Not thread-safe; one per decoding sequence.
 */
public final class GroupRetrieval {
    final int keyDim;
    final int valueDim;
    int queries;
    int[][] positions = new int[0][];
    int[] positionCounts = new int[0];
    float[][] fineKeys = new float[0][];
    float[][] fineValues = new float[0][];
    float[][] summaryKeys = new float[0][];
    float[][] summaryValueSums = new float[0][];
    float[][] summaryCounts = new float[0][];
    int[] summaryTotals = new int[0];
    /** The search's working arrays, kept between calls. */
    final GroupRetriever.Scratch scratch;

    /** Empty buffers for trees of keys of {@code keyDim} and values of {@code valueDim}. */
    public GroupRetrieval(int keyDim, int valueDim) {
        if (keyDim < 1 || valueDim < 1) {
            throw new IllegalArgumentException("key and value dimensions must be >= 1, got " + keyDim + " and " + valueDim);
        }
        this.keyDim = keyDim;
        this.valueDim = valueDim;
        this.scratch = new GroupRetriever.Scratch();
    }

    /** Queries in the last retrieval. */
    public int queries() {
        return queries;
    }

    /** How many positions query {@code q} attends finely. */
    public int fineCount(int q) {
        return positionCounts[q];
    }

    /** Query {@code q}'s fine positions; the first {@link #fineCount} entries are valid, each once. */
    public int[] finePositions(int q) {
        return positions[q];
    }

    /** Query {@code q}'s fine keys, {@code [fineCount][keyDim]} row-major, in the order of {@link #finePositions}. */
    public float[] fineKeys(int q) {
        return fineKeys[q];
    }

    /** Query {@code q}'s fine values, {@code [fineCount][valueDim]} row-major, in the order of {@link #finePositions}. */
    public float[] fineValues(int q) {
        return fineValues[q];
    }

    /** How many summaries query {@code q} has. */
    public int summaryCount(int q) {
        return summaryTotals[q];
    }

    /** Summary keys of query {@code q}, {@code [summaryCount][keyDim]} row-major (see {@link TreeRetrieval.Summary#meanKey}). */
    public float[] summaryKeys(int q) {
        return summaryKeys[q];
    }

    /** Summary value sums of query {@code q}, {@code [summaryCount][valueDim]} row-major. */
    public float[] summaryValueSums(int q) {
        return summaryValueSums[q];
    }

    /** How many keys each summary of query {@code q} stands for (at least one), as floats for the graph. */
    public float[] summaryCounts(int q) {
        return summaryCounts[q];
    }

    /** Starts a retrieval for {@code count} queries, keeping the buffers' capacity. */
    void reset(int count) {
        if (positions.length < count) {
            positions = Arrays.copyOf(positions, count);
            positionCounts = Arrays.copyOf(positionCounts, count);
            fineKeys = Arrays.copyOf(fineKeys, count);
            fineValues = Arrays.copyOf(fineValues, count);
            summaryKeys = Arrays.copyOf(summaryKeys, count);
            summaryValueSums = Arrays.copyOf(summaryValueSums, count);
            summaryCounts = Arrays.copyOf(summaryCounts, count);
            summaryTotals = Arrays.copyOf(summaryTotals, count);
            for (int q = 0; q < count; q++) {
                if (positions[q] == null) {
                    positions[q] = new int[64];
                    fineKeys[q] = new float[64 * keyDim];
                    fineValues[q] = new float[64 * valueDim];
                    summaryKeys[q] = new float[64 * keyDim];
                    summaryValueSums[q] = new float[64 * valueDim];
                    summaryCounts[q] = new float[64];
                }
            }
        }
        this.queries = count;
        Arrays.fill(positionCounts, 0);
        Arrays.fill(summaryTotals, 0);
    }

    /** Adds a fine position and returns its index; the caller writes its key and value in place. */
    int addFine(int q, int position) {
        int i = positionCounts[q]++;
        if (i == positions[q].length) {
            positions[q] = Arrays.copyOf(positions[q], 2 * i);
            fineKeys[q] = Arrays.copyOf(fineKeys[q], 2 * i * keyDim);
            fineValues[q] = Arrays.copyOf(fineValues[q], 2 * i * valueDim);
        }
        positions[q][i] = position;
        return i;
    }

    /** Adds a summary and returns its index; the caller writes its key and value sum in place. */
    int addSummary(int q, int count) {
        int i = summaryTotals[q]++;
        if (i == summaryCounts[q].length) {
            summaryKeys[q] = Arrays.copyOf(summaryKeys[q], 2 * i * keyDim);
            summaryValueSums[q] = Arrays.copyOf(summaryValueSums[q], 2 * i * valueDim);
            summaryCounts[q] = Arrays.copyOf(summaryCounts[q], 2 * i);
        }
        summaryCounts[q][i] = count;
        return i;
    }
}
