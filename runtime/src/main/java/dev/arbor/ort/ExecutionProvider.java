package dev.arbor.ort;

import java.util.Locale;

/** Where ONNX Runtime executes a graph. CPU is the default and what the tests exercise. */
public enum ExecutionProvider {
    CPU,
    /** Needs the {@code onnxruntime_gpu} artifact (Maven profile {@code -Pcuda}), a GPU and the CUDA libraries. */
    CUDA;

    /** Parses a configuration value such as {@code cpu} or {@code cuda}, naming the choices on a typo. */
    public static ExecutionProvider parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "unknown execution provider '" + name + "': expected 'cpu' or 'cuda'", e);
        }
    }
}
