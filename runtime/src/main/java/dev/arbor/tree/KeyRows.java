package dev.arbor.tree;

import dev.arbor.store.HeadStore;
import dev.arbor.store.Segment;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Reads many key rows of a {@link HeadStore} at scattered positions, as a leaf scan does. A store read
 * is a {@code FloatBuffer} bulk get, whose fixed cost is most of the time for an 8-float row; here a
 * row is {@code dim} absolute gets from a kept view of its store segment, which the JIT compiles to
 * plain loads. Views of full segments are kept; the last segment's view is refreshed as it fills.
 */
final class KeyRows {
    private final HeadStore store;
    private final int dim;
    private final int segmentRows;
    private FloatBuffer[] segments = new FloatBuffer[0];
    private int fullSegments;

    KeyRows(HeadStore store) {
        this.store = store;
        this.dim = store.keyDim();
        this.segmentRows = store.segmentRows();
    }

    /** Copies the keys at {@code positions[0 .. count)} into {@code target} from {@code offset}, row after row. */
    void read(int[] positions, int count, float[] target, int offset) {
        refresh();
        for (int i = 0; i < count; i++) {
            int position = positions[i];
            FloatBuffer segment = segments[position / segmentRows];
            int base = (position % segmentRows) * dim;
            int out = offset + i * dim;
            for (int d = 0; d < dim; d++) {
                target[out + d] = segment.get(base + d);
            }
        }
    }

    private void refresh() {
        List<Segment> current = store.keySegments();
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
