package dev.arbor.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeadStoreTest {
    @TempDir
    Path directory;

    @Test
    void rowsSpanSegmentsAndReadBackInPositionOrder() {
        HeadStore store = HeadStore.builder().keyDim(3).valueDim(2).segmentRows(4).build();
        for (int i = 0; i < 10; i++) {
            assertEquals(i, store.append(new float[] {i, i + 0.5f, -i}, new float[] {10 * i, 1}));
        }
        assertEquals(10, store.size());
        assertEquals(3, store.keySegments().size());
        assertArrayEquals(new float[] {7, 7.5f, -7}, store.key(7));
        assertArrayEquals(new float[] {90, 1}, store.value(9));
        assertEquals(2, store.keySegments().get(2).rowCount());
        assertThrows(IndexOutOfBoundsException.class, () -> store.key(10));
    }

    @Test
    void gathersCopyTheRowsOfAnyPositionsAcrossSegmentsInTheOrderAsked() {
        // Rows of 40 floats: wider than a cache line, so the gather touches several lines per row.
        HeadStore store = HeadStore.builder().keyDim(40).valueDim(20).segmentRows(4).build();
        for (int i = 0; i < 10; i++) {
            float[] key = new float[40];
            float[] value = new float[20];
            for (int d = 0; d < 40; d++) {
                key[d] = 100 * i + d;
            }
            for (int d = 0; d < 20; d++) {
                value[d] = -100 * i - d;
            }
            store.append(key, value);
        }
        int[] positions = {9, 0, 5, 5, 3};
        float[] keys = new float[4 * 40];
        float[] values = new float[4 * 20];
        store.readKeys(positions, 4, keys);
        store.readValues(positions, 4, values);
        for (int r = 0; r < 4; r++) {
            assertArrayEquals(store.key(positions[r]), Arrays.copyOfRange(keys, r * 40, r * 40 + 40));
            assertArrayEquals(store.value(positions[r]), Arrays.copyOfRange(values, r * 20, r * 20 + 20));
        }
        assertThrows(IndexOutOfBoundsException.class, () -> store.readValues(new int[] {2, 10}, 2, values));
    }

    @Test
    void mappedSegmentsCarryAHeaderThatRecoversTheirRows() throws IOException {
        HeadStore store = HeadStore.builder().keyDim(2).valueDim(2).segmentRows(8).directory(directory).build();
        for (int i = 0; i < 11; i++) {
            store.append(new float[] {i, -i}, new float[] {i * 2, 0});
        }
        assertTrue(Files.exists(directory.resolve("keys-00001.seg")));
        Segment reopened = Segment.open(directory.resolve("keys-00001.seg"));
        assertEquals(3, reopened.rowCount());
        assertEquals(SegmentHeader.Kind.KEYS, reopened.kind());
        FloatBuffer rows = reopened.rows();
        assertEquals(6, rows.remaining());
        assertEquals(10f, rows.get(4));
        SegmentHeader header = SegmentHeader.readFrom(ByteBuffer.wrap(Files.readAllBytes(directory.resolve(
                "values-00000.seg"))));
        assertEquals(new SegmentHeader(SegmentHeader.Kind.VALUES, VectorFormat.FP32, 2, 8, 8), header);
    }

    @Test
    void memoryFollowsTheRowsAndKeepsThemInPlace() throws IOException {
        int segmentRows = 4 * Segment.FIRST_ROWS + 100;
        HeadStore inMemory = HeadStore.builder().keyDim(2).valueDim(1).segmentRows(segmentRows).build();
        HeadStore mapped = HeadStore.builder().keyDim(2).valueDim(1).segmentRows(segmentRows)
                .directory(directory).build();
        int rows = segmentRows + 3;
        long smallStoreBytes = 0;
        FloatBuffer early = null;
        for (int i = 0; i < rows; i++) {
            inMemory.append(new float[] {i, -i}, new float[] {i / 2f});
            mapped.append(new float[] {i, -i}, new float[] {i / 2f});
            if (i == 9) {
                smallStoreBytes = inMemory.allocatedBytes();
                early = inMemory.keySegments().get(0).rows();
            }
        }
        MemoryReservation reservation = MemoryReservation.AVAILABLE;
        long smallExpected = reservation != null
                ? reservation.backed(SegmentHeader.BYTES + 10 * 2 * Float.BYTES,
                        SegmentHeader.BYTES + (long) segmentRows * 2 * Float.BYTES)
                        + reservation.backed(SegmentHeader.BYTES + 10 * Float.BYTES,
                                SegmentHeader.BYTES + (long) segmentRows * Float.BYTES)
                : 2L * SegmentHeader.BYTES + (long) Segment.FIRST_ROWS * 3 * Float.BYTES;
        assertEquals(smallExpected, smallStoreBytes, "ten rows should not take a whole segment");
        assertEquals(-9f, early.get(19), "a view taken early reads the same rows after the segment filled");
        for (HeadStore store : new HeadStore[] {inMemory, mapped}) {
            for (int i = 0; i < rows; i += 97) {
                assertArrayEquals(new float[] {i, -i}, store.key(i));
                assertArrayEquals(new float[] {i / 2f}, store.value(i));
            }
            Segment full = store.keySegments().get(0);
            assertEquals(segmentRows, full.rowCount());
            FloatBuffer view = full.rows();
            assertEquals(segmentRows - 1f, view.get(2 * (segmentRows - 1)));
        }
        long fullBytes = SegmentHeader.BYTES + (long) segmentRows * 2 * Float.BYTES;
        assertEquals(reservation != null ? reservation.backed(fullBytes, fullBytes) : fullBytes,
                inMemory.keySegments().get(0).allocatedBytes());
        assertEquals(fullBytes, mapped.keySegments().get(0).allocatedBytes());
        Segment reopened = Segment.open(directory.resolve("keys-00000.seg"));
        assertEquals(segmentRows, reopened.rowCount());
        assertEquals(-(segmentRows - 1f), reopened.rows().get(2 * segmentRows - 1));
        Segment partial = Segment.open(directory.resolve("values-00001.seg"));
        assertEquals(3, partial.rowCount());
        assertEquals(segmentRows / 2f, partial.rows().get(0));
    }

    @Test
    void aSegmentWithoutReservationGrowsByCopiesAndKeepsItsRows() {
        int capacity = 4 * Segment.FIRST_ROWS + 100;
        Segment segment = Segment.inMemory(SegmentHeader.Kind.KEYS, 2, capacity, null);
        segment.append(new float[] {0, 0});
        assertEquals(SegmentHeader.BYTES + (long) Segment.FIRST_ROWS * 2 * Float.BYTES, segment.allocatedBytes(),
                "a growing segment starts with room for its first rows only");
        for (int i = 1; i < capacity; i++) {
            segment.append(new float[] {i, -i});
        }
        assertEquals(SegmentHeader.BYTES + (long) capacity * 2 * Float.BYTES, segment.allocatedBytes());
        float[] row = new float[2];
        for (int i = 0; i < capacity; i += 61) {
            segment.read(i, row, 0);
            assertArrayEquals(new float[] {i, -i}, row);
        }
        assertTrue(segment.isFull());
    }

    @Test
    void aJdk22BuildReservesSegmentMemory() {
        assumeTrue(Runtime.version().feature() >= 22, "JDK 21 has no foreign function API: segments grow by copies");
        assertNotNull(MemoryReservation.AVAILABLE,
                "a JDK 22+ build must compile src/main/java22 (the runtime module's jdk22 profile)");
        Segment segment = Segment.inMemory(SegmentHeader.Kind.VALUES, 4, 1 << 20);
        segment.append(new float[] {1, 2, 3, 4});
        assertTrue(segment.allocatedBytes() < 1 << 16, "one row of a reserved segment backs a page, not the segment");
    }

    @Test
    void aReservedSegmentCountsAtMostAnEighthMoreThanItsRowsAndAFullOneAPageOrTwo() {
        MemoryReservation reservation = MemoryReservation.AVAILABLE;
        assumeTrue(reservation != null, "segments grow by copies on this JDK");
        long reserved = SegmentHeader.BYTES + (64L << 20);
        long slack = 64 << 10;
        for (long written = SegmentHeader.BYTES + 1; written < reserved; written += 777_777) {
            long backed = reservation.backed(written, reserved);
            assertTrue(backed >= written && backed <= written + written / 8 + slack,
                    written + " bytes written are counted as " + backed + " backed");
        }
        long full = reservation.backed(reserved, reserved);
        assertTrue(full >= reserved && full <= reserved + slack, "a full segment is counted as " + full);
    }

    @Test
    void onnxRuntimeReadsASegmentWithoutCopying() throws OrtException {
        HeadStore store = HeadStore.builder().keyDim(4).valueDim(4).build();
        for (int i = 0; i < 5; i++) {
            store.append(new float[] {i, 1, 2, 3}, new float[4]);
        }
        Segment keys = store.keySegments().get(0);
        FloatBuffer rows = keys.rows();
        assertTrue(rows.isDirect());
        try (OnnxTensor tensor = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), rows, new long[] {5, 4})) {
            assertFalse(tensor.ownsBuffer(), "ONNX Runtime copied the segment instead of reading it in place");
            assertEquals(4f, tensor.getFloatBuffer().get(16));
        }
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        HeadStore store = HeadStore.builder().keyDim(3).valueDim(3).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> store.append(new float[2], new float[3]));
        assertTrue(e.getMessage().contains("dimension 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HeadStore.builder().keyDim(0).valueDim(3).build());
        assertThrows(IllegalArgumentException.class,
                () -> HeadStore.builder().keyDim(1024).valueDim(1024).segmentRows(1 << 20).build().append(
                        new float[1024], new float[1024]));
        assertThrows(IllegalArgumentException.class,
                () -> SegmentHeader.readFrom(ByteBuffer.allocate(64)));
    }
}
