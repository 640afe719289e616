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
 * A block of up to {@code capacity} rows of one kind (keys or values) behind a {@link SegmentHeader},
 * either in direct memory or memory-mapped from a file. Rows are little-endian and row-major, so
 * {@link #rows()} can be handed to {@code OnnxTensor.createTensor} as a {@code [rows, dim]} tensor
 * without a copy.
 *
 * <p>Where the JDK offers a {@link MemoryReservation} (22 and newer), an in-memory segment reserves its
 * whole capacity as address space at once: the operating system backs a page when a row is first
 * written to it, so a small context costs a page or two, a long one leaves at most a page unwritten,
 * and rows never move. Otherwise the memory grows with the rows: from {@value #FIRST_ROWS} rows it
 * doubles up to an eighth of the capacity, then grows by eighths, so a long context leaves at most an
 * eighth of a segment unwritten; a direct buffer grows by copying into a larger one, a mapped segment
 * extends its file and maps it again. A view from {@link #rows()} stays valid, but a longer one needs a
 * new call.
 */
public final class Segment {
    static final int FIRST_ROWS = 1024;
    private static final int LINE_FLOATS = 64 / Float.BYTES;

    private final SegmentHeader.Kind kind;
    private final int dim;
    private final int capacity;
    private final Path file;
    /** What backs an in-memory segment reserved at its full size; null when it grows (or is mapped). */
    private final MemoryReservation reservation;
    private ByteBuffer whole;
    private FloatBuffer floats;
    private int rows;

    private Segment(ByteBuffer whole, SegmentHeader header, Path file, MemoryReservation reservation) {
        this.reservation = reservation;
        this.kind = header.kind();
        this.dim = header.dim();
        this.capacity = header.capacity();
        this.rows = header.rows();
        this.file = file;
        hold(whole);
    }

    /** A new, empty segment in direct memory: reserved at its full size if the JDK can, else growing. */
    static Segment inMemory(SegmentHeader.Kind kind, int dim, int capacity) {
        return inMemory(kind, dim, capacity, MemoryReservation.AVAILABLE);
    }

    /** {@link #inMemory(SegmentHeader.Kind, int, int)} with the given reservation, or growing if it is null. */
    static Segment inMemory(SegmentHeader.Kind kind, int dim, int capacity, MemoryReservation reservation) {
        SegmentHeader header = new SegmentHeader(kind, VectorFormat.FP32, dim, capacity, 0);
        ByteBuffer buffer = reservation != null
                ? reservation.reserve(byteSize(dim, capacity))
                : ByteBuffer.allocateDirect(byteSize(dim, firstRows(dim, capacity)));
        header.writeTo(buffer);
        return new Segment(buffer, header, null, reservation);
    }

    /** A new, empty segment memory-mapped from {@code file}, which must not exist yet. */
    static Segment mapped(Path file, SegmentHeader.Kind kind, int dim, int capacity) {
        SegmentHeader header = new SegmentHeader(kind, VectorFormat.FP32, dim, capacity, 0);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer buffer = channel.map(FileChannel.MapMode.READ_WRITE, 0, byteSize(dim, firstRows(dim, capacity)));
            header.writeTo(buffer);
            return new Segment(buffer, header, file, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create KV segment " + file + ": " + e.getMessage(), e);
        }
    }

    /** Maps an existing segment file, trusting the row count in its header. */
    public static Segment open(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = channel.map(FileChannel.MapMode.READ_WRITE, 0, Files.size(file));
            SegmentHeader header = SegmentHeader.readFrom(buffer);
            if (buffer.capacity() < byteSize(header.dim(), header.rows())) {
                throw new IllegalArgumentException("KV segment " + file + " is shorter than its header says: "
                        + header.rows() + " rows of dim " + header.dim() + " need "
                        + byteSize(header.dim(), header.rows()) + " bytes, the file has " + buffer.capacity());
            }
            return new Segment(buffer, header, file, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open KV segment " + file + ": " + e.getMessage(), e);
        }
    }

    /** Checks up front that a full segment fits one ONNX Runtime tensor, then starts small. */
    private static int firstRows(int dim, int capacity) {
        byteSize(dim, capacity);
        return Math.min(capacity, FIRST_ROWS);
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

    /** Rows the segment holds when full. */
    public int capacity() {
        return capacity;
    }

    /** Bytes of memory (or file) behind the segment now, header included. */
    public long allocatedBytes() {
        if (reservation != null) {
            return reservation.backed(SegmentHeader.BYTES + (long) rows * dim * Float.BYTES, byteSize(dim, capacity));
        }
        return whole.capacity();
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
        if ((long) (rows + 1) * dim > floats.capacity()) {
            grow();
        }
        floats.put(rows * dim, row, 0, dim);
        rows++;
        SegmentHeader.writeRows(whole, rows);
    }

    /** Makes room for more rows (a reserved segment holds its capacity from the start). */
    private void grow() {
        int held = floats.capacity() / dim;
        int step = Math.max(1, capacity / 8);
        int size = byteSize(dim, Math.min(capacity, held < step ? 2 * held : held + step));
        if (file == null) {
            ByteBuffer larger = ByteBuffer.allocateDirect(size);
            larger.put(0, whole, 0, SegmentHeader.BYTES + rows * dim * Float.BYTES);
            hold(larger);
            return;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            hold(channel.map(FileChannel.MapMode.READ_WRITE, 0, size));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extend KV segment " + file + ": " + e.getMessage(), e);
        }
    }

    private void hold(ByteBuffer buffer) {
        whole = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        floats = whole.slice(SegmentHeader.BYTES, whole.capacity() - SegmentHeader.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer();
    }

    void read(int row, float[] destination, int offset) {
        floats.get(row * dim, destination, offset, dim);
    }

    /** One float of each 64-byte line of the row (rows are line-aligned: see {@link SegmentHeader}), summed. */
    float touch(int row) {
        float sum = 0;
        for (int d = 0; d < dim; d += LINE_FLOATS) {
            sum += floats.get(row * dim + d);
        }
        return sum;
    }
}
