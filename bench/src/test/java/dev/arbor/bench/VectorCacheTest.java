package dev.arbor.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VectorCacheTest {
    private static final int DIM = 5;
    private static final String IDENTITY = "test vectors; book.txt 1234 bytes";

    @TempDir
    Path directory;

    @Test
    void readsBackWhatWasWrittenAndServesAPrefix() {
        VectorCache cache = new VectorCache(directory);
        float[] vectors = randomVectors(100);
        cache.write(IDENTITY, DIM, vectors, 100);

        assertArrayEquals(vectors, cache.read(IDENTITY, DIM, 100).orElseThrow());
        assertArrayEquals(Arrays.copyOf(vectors, 40 * DIM), cache.read(IDENTITY, DIM, 40).orElseThrow());
    }

    @Test
    void prefersTheShortestFileThatIsLongEnough() {
        VectorCache cache = new VectorCache(directory);
        float[] longer = randomVectors(100);
        float[] shorter = longer.clone();
        shorter[0] = 42f;
        cache.write(IDENTITY, DIM, longer, 100);
        cache.write(IDENTITY, DIM, shorter, 30);

        assertEquals(42f, cache.read(IDENTITY, DIM, 20).orElseThrow()[0]);
        assertEquals(longer[0], cache.read(IDENTITY, DIM, 31).orElseThrow()[0]);
    }

    @Test
    void aLongerStreamReplacesItsShorterCheckpoints() throws IOException {
        VectorCache cache = new VectorCache(directory);
        float[] vectors = randomVectors(100);
        Path checkpoint = cache.write(IDENTITY, DIM, vectors, 30);
        Path full = cache.write(IDENTITY, DIM, vectors, 100);

        assertFalse(Files.exists(checkpoint), "the 30-vector checkpoint is a prefix of the full stream");
        assertTrue(Files.exists(full));
        assertArrayEquals(Arrays.copyOf(vectors, 20 * DIM), cache.read(IDENTITY, DIM, 20).orElseThrow());
    }

    @Test
    void aStreamTooShortOrOfOtherInputsIsNotUsed() {
        VectorCache cache = new VectorCache(directory);
        cache.write(IDENTITY, DIM, randomVectors(10), 10);

        assertTrue(cache.read(IDENTITY, DIM, 11).isEmpty());
        assertTrue(cache.read(IDENTITY + " changed", DIM, 5).isEmpty());
        assertTrue(cache.read(IDENTITY, DIM + 1, 5).isEmpty());
    }

    @Test
    void aTruncatedFileIsDiscarded() throws IOException {
        VectorCache cache = new VectorCache(directory);
        Path file = cache.write(IDENTITY, DIM, randomVectors(10), 10);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 4);
        }

        assertTrue(cache.read(IDENTITY, DIM, 5).isEmpty());
        assertFalse(Files.exists(file));
    }

    @Test
    void aDamagedFileIsDiscardedEvenWhenOnlyItsPrefixIsAskedFor() throws IOException {
        VectorCache cache = new VectorCache(directory);
        Path file = cache.write(IDENTITY, DIM, randomVectors(10), 10);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 1;
        Files.write(file, bytes);

        assertTrue(cache.read(IDENTITY, DIM, 2).isEmpty());
        assertFalse(Files.exists(file));
    }

    @Test
    void aFileStoredUnderAnotherIdentitysNameIsRejected() throws IOException {
        VectorCache cache = new VectorCache(directory);
        Path other = cache.write("other inputs", DIM, randomVectors(10), 10);
        Files.move(other, directory.resolve(VectorCache.fileName(IDENTITY, 10)));

        assertTrue(cache.read(IDENTITY, DIM, 10).isEmpty());
    }

    private static float[] randomVectors(int count) {
        Random random = new Random(7);
        float[] vectors = new float[count * DIM];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = (float) random.nextGaussian();
        }
        return vectors;
    }
}
