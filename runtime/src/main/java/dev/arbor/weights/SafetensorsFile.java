package dev.arbor.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@code .safetensors} file: an 8-byte header length, a JSON directory of tensors, then raw
 * little-endian data. F32, F16 and BF16 tensors are read; others are refused by name.
 */
public final class SafetensorsFile {
    private static final long MAX_HEADER = 100L << 20;

    private final Path path;
    private final Map<String, Entry> entries;
    private final long dataStart;

    private record Entry(String dtype, long[] shape, long begin, long end) {}

    private SafetensorsFile(Path path, Map<String, Entry> entries, long dataStart) {
        this.path = path;
        this.entries = entries;
        this.dataStart = dataStart;
    }

    public static SafetensorsFile open(Path path) {
        try (MappedFile file = MappedFile.open(path)) {
            long headerLength = file.map(0, 8, "the 8-byte header length").getLong(0);
            if (headerLength <= 0 || headerLength > MAX_HEADER) {
                throw new ModelFileException(path, "bad header: declared JSON header length " + headerLength
                        + " is implausible; not a safetensors file?");
            }
            ByteBuffer json = file.map(8, headerLength, "the JSON header");
            byte[] bytes = new byte[(int) headerLength];
            json.get(bytes);
            Map<String, Entry> entries = parse(path, bytes);
            long dataStart = 8 + headerLength;
            for (var e : entries.entrySet()) {
                if (dataStart + e.getValue().end() > file.size()) {
                    throw new ModelFileException(path, "truncated: tensor '" + e.getKey() + "' ends at byte "
                            + (dataStart + e.getValue().end()) + " but the file has " + file.size());
                }
            }
            return new SafetensorsFile(path, entries, dataStart);
        }
    }

    private static Map<String, Entry> parse(Path path, byte[] json) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new ModelFileException(path, "bad header: the JSON directory does not parse: " + e.getMessage(), e);
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            var field = it.next();
            if (field.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode node = field.getValue();
            JsonNode shapeNode = node.path("shape");
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong();
            }
            JsonNode offsets = node.path("data_offsets");
            entries.put(field.getKey(), new Entry(node.path("dtype").asText(), shape,
                    offsets.path(0).asLong(), offsets.path(1).asLong()));
        }
        return entries;
    }

    public Path path() {
        return path;
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The tensor widened to float32, checked against the expected shape (row-major, as PyTorch stores it). */
    public float[] tensor(String name, long... expectedShape) {
        Entry entry = entries.get(name);
        if (entry == null) {
            throw new ModelFileException(path, "tensor '" + name + "' is missing");
        }
        if (!Arrays.equals(entry.shape(), expectedShape)) {
            throw new ModelFileException(path, "tensor '" + name + "' has shape " + Arrays.toString(entry.shape())
                    + " but config.json implies " + Arrays.toString(expectedShape) + " (config does not match the weights)");
        }
        TensorType type = switch (entry.dtype()) {
            case "F32" -> TensorType.F32;
            case "F16" -> TensorType.F16;
            case "BF16" -> TensorType.BF16;
            default -> throw new ModelFileException(path, "tensor '" + name + "' has unsupported dtype " + entry.dtype()
                    + " (Arbor reads F32, F16 and BF16)");
        };
        long count = Arrays.stream(expectedShape).reduce(1, (a, b) -> a * b);
        if ((entry.end() - entry.begin()) != count * type.bytes()) {
            throw new ModelFileException(path, "tensor '" + name + "' spans " + (entry.end() - entry.begin())
                    + " bytes but its shape and dtype need " + count * type.bytes());
        }
        try (MappedFile file = MappedFile.open(path)) {
            return file.floats(dataStart + entry.begin(), (int) count, type, "tensor '" + name + "'");
        }
    }
}
