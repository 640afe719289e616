package dev.arbor.decoder;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The key and value rows one tree-attention run of a layer reads, copied into one small table that the
 * graph gathers from by row id: the sinks and window the trees hold out and the chunk's own positions,
 * each copied as one block of every kv head's rows, and the fine keys the searches chose, copied from the
 * search's own reads. Gathered from the whole cache instead, the fine rows lay scattered over 8 MB per
 * layer at 64K positions and missed in cache, while the search had read the same keys and values a
 * moment before from its leaves.
 *
 * <p>Rows are written on the heap and copied off-heap in one piece for ONNX Runtime, which reads the
 * direct buffers in place. Reused run after run: cleared, never shrunk. Not thread-safe.
 */
final class AttendedRows {
    private final int width;
    private float[] keys = new float[0];
    private float[] values = new float[0];
    private int[] positions = new int[0];
    private int size;
    private FloatBuffer keyTable = allocate(0);
    private FloatBuffer valueTable = allocate(0);

    /** A table of rows of {@code width} floats (a head's size). */
    AttendedRows(int width) {
        this.width = width;
    }

    /** Empties the table, keeping its capacity. */
    void clear() {
        size = 0;
    }

    /** Rows in the table. */
    int size() {
        return size;
    }

    /** The cache position whose key and value are in row {@code row}. */
    int position(long row) {
        return positions[Math.toIntExact(row)];
    }

    /**
     * Copies {@code count} consecutive positions from {@code firstPosition} on, every kv head's row of each,
     * from position-major {@code [position][kvHeads][width]} buffers starting at {@code index}. Returns the
     * table row of the first position's first kv head; position p's kv head h is {@code p·kvHeads + h} rows on.
     */
    int addPositions(FloatBuffer sourceKeys, FloatBuffer sourceValues, int index, int count, int kvHeads,
            int firstPosition) {
        int first = size;
        int rows = count * kvHeads;
        if (rows == 0) {
            return first;
        }
        ensure(first + rows);
        sourceKeys.get(index, keys, first * width, rows * width);
        sourceValues.get(index, values, first * width, rows * width);
        for (int r = 0; r < rows; r++) {
            positions[first + r] = firstPosition + r / kvHeads;
        }
        size += rows;
        return first;
    }

    /** Copies one position's key and value row; returns its table row. */
    int add(int position, float[] key, int keyOffset, float[] value, int valueOffset) {
        int row = size;
        ensure(row + 1);
        System.arraycopy(key, keyOffset, keys, row * width, width);
        System.arraycopy(value, valueOffset, values, row * width, width);
        positions[row] = position;
        size++;
        return row;
    }

    /** The key rows as an off-heap {@code [size][width]} table, copied from the heap on each call. */
    FloatBuffer keyTable() {
        keyTable = publish(keys, keyTable);
        return keyTable.slice(0, size * width);
    }

    /** The value rows as an off-heap {@code [size][width]} table, copied from the heap on each call. */
    FloatBuffer valueTable() {
        valueTable = publish(values, valueTable);
        return valueTable.slice(0, size * width);
    }

    private FloatBuffer publish(float[] rows, FloatBuffer table) {
        int floats = size * width;
        FloatBuffer target = table.capacity() >= floats ? table : allocate(Math.max(floats, 2 * table.capacity()));
        target.put(0, rows, 0, floats);
        return target;
    }

    private void ensure(int rows) {
        if (positions.length < rows) {
            int capacity = Math.max(rows, 2 * positions.length);
            keys = Arrays.copyOf(keys, capacity * width);
            values = Arrays.copyOf(values, capacity * width);
            positions = Arrays.copyOf(positions, capacity);
        }
    }

    private static FloatBuffer allocate(int floats) {
        return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
