package dev.arbor.weights;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3): its metadata key/value pairs and tensor directory, with tensors
 * read on demand from the memory-mapped data section. Only F32, F16 and BF16 tensors are supported.
 */
public final class GgufFile {
    private static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    private static final long HEADER_WINDOW = 256L << 20;

    private final Path path;
    private final Map<String, Object> metadata;
    private final Map<String, TensorInfo> tensors;
    private final long dataStart;

    /** Where one tensor lives. GGUF lists dimensions fastest-varying first: {@code [cols, rows]}. */
    public record TensorInfo(String name, long[] dims, int ggmlType, long offset) {
        long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }
    }

    private GgufFile(Path path, Map<String, Object> metadata, Map<String, TensorInfo> tensors, long dataStart) {
        this.path = path;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataStart = dataStart;
    }

    public static GgufFile open(Path path) {
        try (MappedFile file = MappedFile.open(path)) {
            ByteBuffer b = file.map(0, Math.min(file.size(), HEADER_WINDOW), "the header");
            try {
                return parse(path, file.size(), b);
            } catch (BufferUnderflowException e) {
                throw new ModelFileException(path, "truncated: the file ends inside the GGUF header", e);
            }
        }
    }

    private static GgufFile parse(Path path, long fileSize, ByteBuffer b) {
        if (b.remaining() < 4 || b.getInt() != MAGIC) {
            throw new ModelFileException(path, "bad magic: not a GGUF file (expected the bytes 'GGUF' at offset 0)");
        }
        int version = b.getInt();
        if (version != 2 && version != 3) {
            throw new ModelFileException(path, "GGUF version " + version + " is not supported (only 2 and 3)");
        }
        long tensorCount = b.getLong();
        long kvCount = b.getLong();
        if (tensorCount < 0 || kvCount < 0 || tensorCount > 1_000_000 || kvCount > 1_000_000) {
            throw new ModelFileException(path, "corrupt header: " + tensorCount + " tensors, " + kvCount + " metadata entries");
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = string(b);
            metadata.put(key, value(path, b, b.getInt()));
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = string(b);
            int nDims = b.getInt();
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = b.getLong();
            }
            tensors.put(name, new TensorInfo(name, dims, b.getInt(), b.getLong()));
        }
        long alignment = metadata.get("general.alignment") instanceof Number n ? n.longValue() : 32;
        long dataStart = (b.position() + alignment - 1) / alignment * alignment;
        if (dataStart > fileSize) {
            throw new ModelFileException(path, "truncated: no tensor data after the header");
        }
        return new GgufFile(path, metadata, tensors, dataStart);
    }

    private static String string(ByteBuffer b) {
        long length = b.getLong();
        if (length < 0 || length > b.remaining()) {
            throw new BufferUnderflowException();
        }
        byte[] bytes = new byte[(int) length];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static Object value(Path path, ByteBuffer b, int type) {
        return switch (type) {
            case 0 -> (int) b.get() & 0xFF;
            case 1 -> (int) b.get();
            case 2 -> b.getShort() & 0xFFFF;
            case 3 -> (int) b.getShort();
            case 4 -> Integer.toUnsignedLong(b.getInt());
            case 5 -> b.getInt();
            case 6 -> b.getFloat();
            case 7 -> b.get() != 0;
            case 8 -> string(b);
            case 9 -> {
                int itemType = b.getInt();
                long count = b.getLong();
                if (count < 0 || count > b.remaining()) {
                    throw new BufferUnderflowException();
                }
                List<Object> items = new ArrayList<>((int) count);
                for (long i = 0; i < count; i++) {
                    items.add(value(path, b, itemType));
                }
                yield items;
            }
            case 10, 11 -> b.getLong();
            case 12 -> b.getDouble();
            default -> throw new ModelFileException(path, "corrupt metadata: unknown GGUF value type " + type);
        };
    }

    public Path path() {
        return path;
    }

    public Map<String, Object> metadata() {
        return metadata;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** A metadata value, or a clear error if the file lacks it. */
    public Object require(String key) {
        Object value = metadata.get(key);
        if (value == null) {
            throw new ModelFileException(path, "metadata key '" + key + "' is missing");
        }
        return value;
    }

    public int requireInt(String key) {
        if (require(key) instanceof Number n) {
            return n.intValue();
        }
        throw new ModelFileException(path, "metadata key '" + key + "' is not a number");
    }

    /** The tensor's values widened to float32, checked against the shape the caller expects. */
    public float[] tensor(String name, long... expectedDims) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new ModelFileException(path, "tensor '" + name + "' is missing");
        }
        if (!java.util.Arrays.equals(info.dims(), expectedDims)) {
            throw new ModelFileException(path, "tensor '" + name + "' has dims " + java.util.Arrays.toString(info.dims())
                    + " but the config implies " + java.util.Arrays.toString(expectedDims)
                    + " (config does not match the weights)");
        }
        TensorType type = switch (info.ggmlType()) {
            case 0 -> TensorType.F32;
            case 1 -> TensorType.F16;
            case 30 -> TensorType.BF16;
            default -> throw new ModelFileException(path, "tensor '" + name + "' has unsupported GGML type "
                    + info.ggmlType() + " (Arbor reads F32, F16 and BF16; quantised types are not supported)");
        };
        try (MappedFile file = MappedFile.open(path)) {
            return file.floats(dataStart + info.offset(), Math.toIntExact(info.elements()), type, "tensor '" + name + "'");
        }
    }
}
