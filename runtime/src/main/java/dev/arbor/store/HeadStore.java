package dev.arbor.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The append-only key and value rows of one (layer, key/value head) of a context, off the Java heap.
 * Position {@code p} lives in segment {@code p / segmentRows} at row {@code p % segmentRows}; keys and
 * values are separate segments so a graph can take the key matrix alone.
 *
 * <p>Files (when backed by a directory): {@code keys-00000.seg}, {@code values-00000.seg}, ... each
 * with a {@link SegmentHeader} whose row count is updated after each append, so recovery (a later
 * issue) can reopen the files with {@link Segment#open} and trust the smaller row count of the last
 * key and value segment, dropping a row half-written at a crash.
 */
public final class HeadStore {
    private final int keyDim;
    private final int valueDim;
    private final int segmentRows;
    private final Path directory;
    private final List<Segment> keySegments = new ArrayList<>();
    private final List<Segment> valueSegments = new ArrayList<>();
    private long size;
    /** The sum of the floats a gather touched: stored so the compiler keeps those loads. */
    private float touched;

    private HeadStore(Builder builder) {
        this.keyDim = builder.keyDim;
        this.valueDim = builder.valueDim;
        this.segmentRows = builder.segmentRows;
        this.directory = builder.directory;
        if (directory != null) {
            try {
                Files.createDirectories(directory);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create KV store directory " + directory, e);
            }
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public int keyDim() {
        return keyDim;
    }

    public int valueDim() {
        return valueDim;
    }

    /** Rows per segment; every segment but the last is full. */
    public int segmentRows() {
        return segmentRows;
    }

    /** Number of positions appended. */
    public long size() {
        return size;
    }

    /** Appends one key and its value and returns the new position. */
    public long append(float[] key, float[] value) {
        checkDim("key", key, keyDim);
        checkDim("value", value, valueDim);
        if (size % segmentRows == 0) {
            addSegments();
        }
        keySegments.getLast().append(key);
        valueSegments.getLast().append(value);
        return size++;
    }

    /** Copies the key at {@code position} into {@code destination[offset .. offset + keyDim)}. */
    public void readKey(long position, float[] destination, int offset) {
        checkPosition(position);
        keySegments.get((int) (position / segmentRows)).read((int) (position % segmentRows), destination, offset);
    }

    /** Copies the value at {@code position} into {@code destination[offset .. offset + valueDim)}. */
    public void readValue(long position, float[] destination, int offset) {
        checkPosition(position);
        valueSegments.get((int) (position / segmentRows)).read((int) (position % segmentRows), destination, offset);
    }

    /**
     * Copies the key rows at the first {@code count} of {@code positions} into consecutive rows of
     * {@code destination}: a gather. It first touches every row (one float per cache line) in a loop
     * so small that the core has all their misses in flight at once, then copies them from the cache;
     * copying alone, each copy's call and checks between one miss and the next, overlaps few.
     */
    public void readKeys(int[] positions, int count, float[] destination) {
        gather(keySegments, keyDim, positions, count, destination);
    }

    /** {@link #readKeys} for value rows. */
    public void readValues(int[] positions, int count, float[] destination) {
        gather(valueSegments, valueDim, positions, count, destination);
    }

    public float[] key(long position) {
        float[] key = new float[keyDim];
        readKey(position, key, 0);
        return key;
    }

    public float[] value(long position) {
        float[] value = new float[valueDim];
        readValue(position, value, 0);
        return value;
    }

    /** Key segments in position order, for zero-copy tensors. */
    public List<Segment> keySegments() {
        return Collections.unmodifiableList(keySegments);
    }

    /** Value segments in position order, for zero-copy tensors. */
    public List<Segment> valueSegments() {
        return Collections.unmodifiableList(valueSegments);
    }

    /** Bytes of memory behind the key and value rows, including the unused tail of the last segments and headers. */
    public long allocatedBytes() {
        long bytes = 0;
        for (Segment segment : keySegments) {
            bytes += segment.allocatedBytes();
        }
        for (Segment segment : valueSegments) {
            bytes += segment.allocatedBytes();
        }
        return bytes;
    }

    private void gather(List<Segment> segments, int dim, int[] positions, int count, float[] destination) {
        float sum = 0;
        for (int i = 0; i < count; i++) {
            checkPosition(positions[i]);
            sum += segments.get(positions[i] / segmentRows).touch(positions[i] % segmentRows);
        }
        touched = sum;
        for (int i = 0; i < count; i++) {
            segments.get(positions[i] / segmentRows).read(positions[i] % segmentRows, destination, i * dim);
        }
    }

    private void addSegments() {
        int index = keySegments.size();
        if (directory == null) {
            keySegments.add(Segment.inMemory(SegmentHeader.Kind.KEYS, keyDim, segmentRows));
            valueSegments.add(Segment.inMemory(SegmentHeader.Kind.VALUES, valueDim, segmentRows));
        } else {
            keySegments.add(Segment.mapped(segmentFile("keys", index), SegmentHeader.Kind.KEYS, keyDim, segmentRows));
            valueSegments.add(
                    Segment.mapped(segmentFile("values", index), SegmentHeader.Kind.VALUES, valueDim, segmentRows));
        }
    }

    private Path segmentFile(String kind, int index) {
        return directory.resolve(String.format("%s-%05d.seg", kind, index));
    }

    private static void checkDim(String what, float[] vector, int dim) {
        if (vector == null) {
            throw new IllegalArgumentException(what + " vector is null");
        }
        if (vector.length != dim) {
            throw new IllegalArgumentException(
                    what + " has dimension " + vector.length + " but this store holds " + what + "s of dimension " + dim);
        }
    }

    private void checkPosition(long position) {
        if (position < 0 || position >= size) {
            throw new IndexOutOfBoundsException("position " + position + " is outside the store (size " + size + ")");
        }
    }

    /** Configures a {@link HeadStore}; {@link #keyDim} and {@link #valueDim} are required. */
    public static final class Builder {
        /**
         * Full segments of at most 256 MiB: far below ONNX Runtime's 2 GiB tensor limit, and few, since
         * exact attention runs once per segment (a million keys of dim 64 at 64 MiB took 12 % longer in
         * 4 runs than in one, 1,000,840 of dim 384 13 % longer in 31 runs than in 8). A segment's
         * memory follows its rows (see {@link Segment}), so the size costs a short context nothing.
         */
        private static final long TARGET_SEGMENT_BYTES = 256L << 20;

        private int keyDim;
        private int valueDim;
        private int segmentRows;
        private Path directory;

        private Builder() {}

        public Builder keyDim(int keyDim) {
            this.keyDim = keyDim;
            return this;
        }

        public Builder valueDim(int valueDim) {
            this.valueDim = valueDim;
            return this;
        }

        /** Rows per full segment; defaults to the largest power of two keeping a segment within 256 MiB. */
        public Builder segmentRows(int segmentRows) {
            this.segmentRows = segmentRows;
            return this;
        }

        /** Memory-maps segment files in this directory; without it the store lives in direct memory. */
        public Builder directory(Path directory) {
            this.directory = directory;
            return this;
        }

        public HeadStore build() {
            if (keyDim <= 0 || valueDim <= 0) {
                throw new IllegalArgumentException(
                        "key and value dimensions must be positive, got " + keyDim + " and " + valueDim);
            }
            if (segmentRows == 0) {
                segmentRows = Integer.highestOneBit((int) (TARGET_SEGMENT_BYTES / (Math.max(keyDim, valueDim) * 4L)));
            }
            if (segmentRows < 0) {
                throw new IllegalArgumentException("segment rows must be positive, got " + segmentRows);
            }
            return new HeadStore(this);
        }
    }
}
