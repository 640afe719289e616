package dev.arbor.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A fixed-capacity block of rows of one kind (keys or values) behind a {@link SegmentHeader}, either
 * in direct memory or memory-mapped from a file. Rows are little-endian and row-major, so
 * {@link #rows()} can be handed to {@code OnnxTensor.createTensor} as a {@code [rows, dim]} tensor
 * without a copy.
 */
public final class Segment {
    private final ByteBuffer whole;
    private final FloatBuffer floats;
    private final SegmentHeader.Kind kind;
    private final int dim;
    private final int capacity;
    private int rows;

    private Segment(ByteBuffer whole, SegmentHeader header) {
        this.whole = whole.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.kind = header.kind();
        this.dim = header.dim();
        this.capacity = header.capacity();
        this.rows = header.rows();
        this.floats = this.whole.slice(SegmentHeader.BYTES, capacity * dim * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer();
    }

    /** A new, empty segment in direct memory. */
    static Segment inMemory(SegmentHeader.Kind kind, int dim, int capacity) {
        SegmentHeader header = new SegmentHeader(kind, VectorFormat.FP32, dim, capacity, 0);
        ByteBuffer buffer = ByteBuffer.allocateDirect(byteSize(dim, capacity));
        header.writeTo(buffer);
        return new Segment(buffer, header);
    }

    /** A new, empty segment memory-mapped from {@code file}, which must not exist yet. */
    static Segment mapped(Path file, SegmentHeader.Kind kind, int dim, int capacity) {
        SegmentHeader header = new SegmentHeader(kind, VectorFormat.FP32, dim, capacity, 0);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer buffer = channel.map(FileChannel.MapMode.READ_WRITE, 0, byteSize(dim, capacity));
            header.writeTo(buffer);
            return new Segment(buffer, header);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create KV segment " + file + ": " + e.getMessage(), e);
        }
    }

    /** Maps an existing segment file, trusting the row count in its header. */
    public static Segment open(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = channel.map(FileChannel.MapMode.READ_WRITE, 0, Files.size(file));
            SegmentHeader header = SegmentHeader.readFrom(buffer);
            if (buffer.capacity() < byteSize(header.dim(), header.capacity())) {
                throw new IllegalArgumentException("KV segment " + file + " is shorter than its header says");
            }
            return new Segment(buffer, header);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open KV segment " + file + ": " + e.getMessage(), e);
        }
    }

    private static int byteSize(int dim, int capacity) {
        long bytes = SegmentHeader.BYTES + (long) dim * capacity * Float.BYTES;
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a segment of " + capacity + " rows of dim " + dim
                    + " exceeds 2 GiB, which ONNX Runtime cannot take as one tensor; use fewer rows per segment");
        }
        return (int) bytes;
    }

    public SegmentHeader.Kind kind() {
        return kind;
    }

    public int dim() {
        return dim;
    }

    public int capacity() {
        return capacity;
    }

    public int rowCount() {
        return rows;
    }

    public boolean isFull() {
        return rows == capacity;
    }

    /**
     * The written rows as a little-endian direct (or mapped) buffer of {@code rowCount() * dim} floats,
     * ready for {@code OnnxTensor.createTensor(env, rows(), new long[] {rowCount(), dim})} without a copy.
     */
    public FloatBuffer rows() {
        return floats.slice(0, rows * dim);
    }

    void append(float[] row) {
        floats.put(rows * dim, row, 0, dim);
        rows++;
        SegmentHeader.writeRows(whole, rows);
    }

    void read(int row, float[] destination, int offset) {
        floats.get(row * dim, destination, offset, dim);
    }
}
