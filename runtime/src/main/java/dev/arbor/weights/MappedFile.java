package dev.arbor.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A weight file mapped into memory region by region, so files beyond 2 GB work and nothing is read
 * that is not asked for. Every failure names the file.
 */
final class MappedFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final long size;

    private MappedFile(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    static MappedFile open(Path path) {
        if (Files.isDirectory(path)) {
            throw new ModelFileException(path, "is a directory, expected a weight file");
        }
        try {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            return new MappedFile(path, channel, channel.size());
        } catch (NoSuchFileException e) {
            throw new ModelFileException(path, "file not found", e);
        } catch (IOException e) {
            throw new ModelFileException(path, "cannot open: " + e.getMessage(), e);
        }
    }

    Path path() {
        return path;
    }

    long size() {
        return size;
    }

    /** Little-endian view of {@code length} bytes at {@code offset}; a clear error if the file ends first. */
    ByteBuffer map(long offset, long length, String what) {
        if (offset < 0 || length < 0 || offset + length > size) {
            throw new ModelFileException(path, "truncated: " + what + " needs bytes " + offset + ".." + (offset + length)
                    + " but the file has " + size + " bytes");
        }
        if (length > Integer.MAX_VALUE) {
            throw new ModelFileException(path, what + " is larger than 2 GB, which one tensor may not be");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, offset, length).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelFileException(path, "cannot map " + what + ": " + e.getMessage(), e);
        }
    }

    /** Reads {@code count} elements of {@code type} at {@code offset}. */
    float[] floats(long offset, int count, TensorType type, String what) {
        return type.read(map(offset, (long) count * type.bytes(), what), count);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new ModelFileException(path, "cannot close: " + e.getMessage(), e);
        }
    }
}
