package dev.arbor.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContextStoreTest {
    @TempDir
    Path directory;

    @Test
    void everyLayerAndHeadHasItsOwnFilesUnderTheDataDirectory() {
        ContextStore store = ContextStore.builder()
                .layers(2)
                .kvHeads(3)
                .keyDim(4)
                .valueDim(2)
                .segmentRows(16)
                .directory(directory)
                .build();
        store.head(1, 2).append(new float[] {1, 2, 3, 4}, new float[] {5, 6});
        assertNotSame(store.head(0, 0), store.head(1, 2));
        assertEquals(0, store.head(0, 0).size());
        assertTrue(Files.exists(directory.resolve("layer-001/head-002/keys-00000.seg")));
        assertArrayEquals(new float[] {5, 6}, store.head(1, 2).value(0));
    }

    @Test
    void outOfRangeHeadsAndEmptyShapesAreRejected() {
        ContextStore store = ContextStore.builder().layers(1).kvHeads(1).keyDim(4).valueDim(4).build();
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> store.head(0, 1));
        assertTrue(e.getMessage().contains("no head (0, 1)"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ContextStore.builder().layers(0).kvHeads(1).keyDim(4).valueDim(4).build());
    }
}
