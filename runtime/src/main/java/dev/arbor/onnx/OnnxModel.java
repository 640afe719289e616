package dev.arbor.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A serialised ONNX model, as ONNX Runtime and Netron read it.
 *
 * @param name the main graph's name, also the dump file's base name
 * @param bytes the ModelProto encoding
 */
public record OnnxModel(String name, byte[] bytes) {
    /** System property naming a directory where every built model is also written as {@code <name>.onnx}. */
    public static final String DUMP_DIR_PROPERTY = "arbor.onnx.dumpDir";

    /** Writes the model to a file (parent directories are created) and returns the path. */
    public Path writeTo(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(file, bytes);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write ONNX model '" + name + "' to " + file, e);
        }
    }

    /** The decoded protobuf, for inspection and tests. */
    public ModelProto proto() {
        try {
            return ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("model '" + name + "' does not decode as ONNX", e);
        }
    }

    void dumpIfRequested() {
        String dir = System.getProperty(DUMP_DIR_PROPERTY);
        if (dir != null && !dir.isBlank()) {
            writeTo(Path.of(dir).resolve(name + ".onnx"));
        }
    }
}
