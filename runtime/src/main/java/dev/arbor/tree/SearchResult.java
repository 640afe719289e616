package dev.arbor.tree;

/**
 * Retrieved positions with their scores q·k, best first; ties are broken by the lower position.
 * Holds the top-k keys and, merged in by score, the sinks and window positions that were not
 * already among them.
 */
public record SearchResult(long[] positions, float[] scores) {
    public SearchResult {
        if (positions.length != scores.length) {
            throw new IllegalArgumentException("positions and scores differ in length");
        }
    }

    public int size() {
        return positions.length;
    }
}
