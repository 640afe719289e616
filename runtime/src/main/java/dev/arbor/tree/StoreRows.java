package dev.arbor.tree;

import dev.arbor.store.HeadStore;
import dev.arbor.store.Segment;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Reads the key or the value rows of a {@link HeadStore} at scattered positions. A store read is a
 * {@code FloatBuffer} bulk get, whose fixed cost is most of the time for an 8-float row; here a row is
 * {@code dim} absolute gets from a kept view of its store segment, which the JIT compiles to plain
 * loads. Views of full segments are kept; the last segment's view is refreshed as it fills.
 */
final class StoreRows {
    private final Supplier<List<Segment>> source;
    private final int dim;
    private final int segmentRows;
    private FloatBuffer[] segments = new FloatBuffer[0];
    private int fullSegments;

    private StoreRows(Supplier<List<Segment>> source, int dim, int segmentRows) {
        this.source = source;
        this.dim = dim;
        this.segmentRows = segmentRows;
    }

    static StoreRows keys(HeadStore store) {
        return new StoreRows(store::keySegments, store.keyDim(), store.segmentRows());
    }

    static StoreRows values(HeadStore store) {
        return new StoreRows(store::valueSegments, store.valueDim(), store.segmentRows());
    }

    /** Copies the row at {@code position} into {@code target} from {@code offset}; {@link #refresh} first. */
    void read(int position, float[] target, int offset) {
        copy(position, target, offset);
    }

    /** Copies the rows at {@code positions[0 .. count)} into {@code target} from {@code offset}, row after row. */
    void read(int[] positions, int count, float[] target, int offset) {
        for (int i = 0; i < count; i++) {
            copy(positions[i], target, offset + i * dim);
        }
    }

    private void copy(int position, float[] target, int offset) {
        FloatBuffer segment = segments[position / segmentRows];
        int base = (position % segmentRows) * dim;
        for (int d = 0; d < dim; d++) {
            target[offset + d] = segment.get(base + d);
        }
    }

    /** Takes in the rows appended since the last refresh; call once before reading. */
    void refresh() {
        List<Segment> current = source.get();
        if (segments.length < current.size()) {
            segments = Arrays.copyOf(segments, Math.max(current.size(), 2 * segments.length));
        }
        for (int s = fullSegments; s < current.size(); s++) {
            Segment segment = current.get(s);
            segments[s] = segment.rows();
            if (segment.isFull()) {
                fullSegments = s + 1;
            }
        }
    }
}
