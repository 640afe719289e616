package dev.arbor.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The fixed-size header at the start of every segment file: what the rows are and how many were
 * written. A reader recovers a segment from its header alone, which is what makes the append-only
 * files durable later: rows past {@code rows} are ignored, rows before it are complete.
 *
 * <p>Layout (little-endian, {@value #BYTES} bytes, so the rows that follow stay 64-byte aligned):
 * magic {@code "ARBORKV\0"}, version, kind, format code, dim, capacity, rows, zero padding.
 *
 * @param kind whether the rows are keys or values
 * @param format element format
 * @param dim elements per row
 * @param capacity rows the segment can hold
 * @param rows rows written so far
 */
public record SegmentHeader(Kind kind, VectorFormat format, int dim, int capacity, int rows) {
    public static final int BYTES = 64;
    public static final int VERSION = 1;
    private static final long MAGIC = 0x0056_4B52_4F42_5241L; // "ARBORKV\0" read little-endian
    private static final int ROWS_OFFSET = 28;

    /** What a segment's rows hold. */
    public enum Kind {
        KEYS,
        VALUES
    }

    public SegmentHeader {
        if (dim <= 0 || capacity <= 0 || rows < 0 || rows > capacity) {
            throw new IllegalArgumentException("inconsistent segment header: dim " + dim + ", capacity "
                    + capacity + ", rows " + rows);
        }
    }

    public void writeTo(ByteBuffer buffer) {
        ByteBuffer out = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(0, MAGIC)
                .putInt(8, VERSION)
                .putInt(12, kind.ordinal())
                .putInt(16, format.code())
                .putInt(20, dim)
                .putInt(24, capacity)
                .putInt(ROWS_OFFSET, rows);
    }

    /** Updates only the row count, the one field that changes while a segment fills. */
    static void writeRows(ByteBuffer littleEndian, int rows) {
        littleEndian.putInt(ROWS_OFFSET, rows);
    }

    public static SegmentHeader readFrom(ByteBuffer buffer) {
        ByteBuffer in = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (in.limit() < BYTES || in.getLong(0) != MAGIC) {
            throw new IllegalArgumentException("not an Arbor KV segment: the magic bytes are missing");
        }
        int version = in.getInt(8);
        if (version != VERSION) {
            throw new IllegalArgumentException("KV segment version " + version + " is not supported (this build reads "
                    + VERSION + ")");
        }
        int kind = in.getInt(12);
        if (kind < 0 || kind >= Kind.values().length) {
            throw new IllegalArgumentException("unknown segment kind " + kind);
        }
        return new SegmentHeader(Kind.values()[kind], VectorFormat.ofCode(in.getInt(16)), in.getInt(20), in.getInt(24),
                in.getInt(ROWS_OFFSET));
    }
}
