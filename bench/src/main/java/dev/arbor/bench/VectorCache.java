package dev.arbor.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A directory of encoded token streams, so a benchmark encodes a corpus once instead of on every run.
 * A stream is named by its identity (a text saying which model, settings and input files made it: any
 * change gives a new name) and its length; it holds the first {@code count} vectors of that stream, so
 * a run that needs fewer vectors reads a prefix of a longer file. Every file carries its identity, its
 * shape and a checksum of its floats, all checked on read: a stale, truncated or damaged file is
 * deleted and reported, never used.
 *
 * <p>Layout (little-endian): magic {@code ARBORVEC}, format version, dimension, vector count, identity
 * length and UTF-8 bytes, CRC32C of the float bytes, then {@code count x dim} raw fp32 values.
 */
final class VectorCache {
    private static final byte[] MAGIC = "ARBORVEC".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final String SUFFIX = ".f32";
    private static final int CHUNK_BYTES = 1 << 22;

    private final Path directory;

    VectorCache(Path directory) {
        this.directory = directory;
    }

    /** {@code $ARBOR_CACHE_DIR/vectors}, else {@code $XDG_CACHE_HOME/arbor/vectors}, else {@code ~/.cache/arbor/vectors}. */
    static Path defaultDirectory() {
        String arbor = System.getenv("ARBOR_CACHE_DIR");
        if (arbor != null && !arbor.isBlank()) {
            return Path.of(arbor, "vectors");
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("arbor").resolve("vectors");
    }

    Path directory() {
        return directory;
    }

    /**
     * The first {@code count} vectors of the stream {@code identity}, from the shortest cached file that
     * holds at least that many, or empty when none does (damaged files on the way are deleted).
     */
    Optional<float[]> read(String identity, int dim, int count) {
        for (Path file : candidates(identity, count)) {
            try {
                return Optional.of(readVerified(file, identity, dim, count));
            } catch (IOException e) {
                System.err.printf("vector cache: discarding %s (%s)%n", file, e.getMessage());
                deleteQuietly(file);
            }
        }
        return Optional.empty();
    }

    /** Stores the first {@code count} vectors of {@code vectors} as the stream {@code identity}. */
    Path write(String identity, int dim, float[] vectors, int count) {
        Path file = directory.resolve(fileName(identity, count));
        try {
            Files.createDirectories(directory);
            Path partial = Files.createTempFile(directory, "partial-", SUFFIX);
            try {
                try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.WRITE)) {
                    byte[] identityBytes = identity.getBytes(StandardCharsets.UTF_8);
                    ByteBuffer header = headerBuffer(identityBytes.length);
                    header.put(MAGIC).putInt(VERSION).putInt(dim).putLong(count).putInt(identityBytes.length)
                            .put(identityBytes).putLong(0L).flip();
                    channel.write(header, 0);
                    long dataStart = header.limit();
                    CRC32C crc = new CRC32C();
                    ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                    long floats = (long) count * dim;
                    long position = dataStart;
                    for (long at = 0; at < floats; ) {
                        int take = (int) Math.min(CHUNK_BYTES / Float.BYTES, floats - at);
                        chunk.clear();
                        chunk.asFloatBuffer().put(vectors, (int) at, take);
                        chunk.limit(take * Float.BYTES);
                        crc.update(chunk.duplicate());
                        while (chunk.hasRemaining()) {
                            position += channel.write(chunk, position);
                        }
                        at += take;
                    }
                    ByteBuffer checksum = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                    checksum.putLong(crc.getValue()).flip();
                    channel.write(checksum, dataStart - Long.BYTES);
                    channel.force(true);
                }
                moveIntoPlace(partial, file);
                deleteShorter(identity, count);
            } finally {
                deleteQuietly(partial);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the vector cache " + file + ": " + e.getMessage(), e);
        }
    }

    /** Shorter files of a stream are prefixes of a longer one (checkpoints of a long encoding): only waste. */
    private void deleteShorter(String identity, int count) {
        for (StoredStream stored : storedStreams(identity)) {
            if (stored.count() < count) {
                deleteQuietly(stored.file());
            }
        }
    }

    /** The file name of a stream: a digest of its identity (readable identities are long) and its length. */
    static String fileName(String identity, int count) {
        return prefix(identity) + count + SUFFIX;
    }

    private static String prefix(String identity) {
        return "tokens-" + sha256(identity).substring(0, 20) + "-";
    }

    private Path[] candidates(String identity, int count) {
        return storedStreams(identity).stream().filter(stored -> stored.count() >= count).map(StoredStream::file)
                .toArray(Path[]::new);
    }

    /** A cached file of one stream and the number of vectors its name says it holds. */
    private record StoredStream(Path file, long count) {}

    /** The files of the stream {@code identity}, shortest first (names without a count left out). */
    private List<StoredStream> storedStreams(String identity) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        String prefix = prefix(identity);
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> {
                        String name = f.getFileName().toString();
                        return name.startsWith(prefix) && name.endsWith(SUFFIX);
                    })
                    .map(f -> new StoredStream(f, storedCount(f.getFileName().toString(), prefix)))
                    .filter(stored -> stored.count() >= 0)
                    .sorted(Comparator.comparingLong(StoredStream::count))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the vector cache " + directory + ": " + e.getMessage(), e);
        }
    }

    private static long storedCount(String name, String prefix) {
        try {
            return Long.parseLong(name.substring(prefix.length(), name.length() - SUFFIX.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static float[] readVerified(Path file, String identity, int dim, int count) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            byte[] expectedIdentity = identity.getBytes(StandardCharsets.UTF_8);
            ByteBuffer header = headerBuffer(expectedIdentity.length);
            readFully(channel, header, 0);
            header.flip();
            byte[] magic = new byte[MAGIC.length];
            header.get(magic);
            if (!Arrays.equals(magic, MAGIC) || header.getInt() != VERSION) {
                throw new StaleCacheException("not a version " + VERSION + " vector cache file");
            }
            int storedDim = header.getInt();
            long storedCount = header.getLong();
            byte[] storedIdentity = new byte[header.getInt()];
            if (storedDim != dim || storedCount < count || storedIdentity.length != expectedIdentity.length) {
                throw new StaleCacheException("holds " + storedCount + " x " + storedDim + " for another identity");
            }
            header.get(storedIdentity);
            if (!Arrays.equals(storedIdentity, expectedIdentity)) {
                throw new StaleCacheException("made from other inputs: " + new String(storedIdentity, StandardCharsets.UTF_8));
            }
            long storedCrc = header.getLong();
            long dataStart = header.limit();
            long floats = storedCount * dim;
            if (channel.size() != dataStart + floats * Float.BYTES) {
                throw new StaleCacheException("truncated: " + channel.size() + " bytes, expected "
                        + (dataStart + floats * Float.BYTES));
            }
            // The whole file is checksummed even when a prefix is asked for: a damaged tail is still damage.
            float[] vectors = new float[Math.toIntExact((long) count * dim)];
            CRC32C crc = new CRC32C();
            ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            long wanted = (long) count * dim;
            long position = dataStart;
            for (long at = 0; at < floats; ) {
                int take = (int) Math.min(CHUNK_BYTES / Float.BYTES, floats - at);
                chunk.clear().limit(take * Float.BYTES);
                readFully(channel, chunk, position);
                chunk.flip();
                crc.update(chunk.duplicate());
                if (at < wanted) {
                    chunk.asFloatBuffer().get(vectors, (int) at, (int) Math.min(take, wanted - at));
                }
                position += take * Float.BYTES;
                at += take;
            }
            if (crc.getValue() != storedCrc) {
                throw new StaleCacheException("checksum mismatch: the file is damaged");
            }
            return vectors;
        }
    }

    private static ByteBuffer headerBuffer(int identityLength) {
        int size = MAGIC.length + Integer.BYTES * 2 + Long.BYTES + Integer.BYTES + identityLength + Long.BYTES;
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, at);
            if (read < 0) {
                throw new StaleCacheException("truncated: ends at byte " + at);
            }
            at += read;
        }
    }

    private static void moveIntoPlace(Path partial, Path file) throws IOException {
        try {
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // A file we cannot delete is found and rejected again on the next read.
        }
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** A cache file that must not be used: made from other inputs, truncated or damaged. */
    private static final class StaleCacheException extends IOException {
        StaleCacheException(String message) {
            super(message);
        }
    }
}
