package dev.arbor.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the shared models and corpora that live beside the repository in {@code ../shared}.
 * Tests that need them fail with a message naming exactly what is missing, rather than skipping
 * silently: CI always has {@code ../shared}, so absence is a set-up error worth seeing.
 */
public final class SharedData {
    private SharedData() {}

    /** The shared folder: {@code -Darbor.shared.dir}, else {@code ../shared} from the repository root. */
    public static Path root() {
        String configured = System.getProperty("arbor.shared.dir");
        Path root = configured != null ? Path.of(configured) : Path.of("..", "shared");
        return root.toAbsolutePath().normalize();
    }

    /** A file under the shared folder, e.g. {@code models/stories260K/stories260K.gguf}. */
    public static Path file(String relative) {
        Path path = root().resolve(relative);
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("missing shared test data: " + path
                    + " (the tests read models and corpora from ../shared beside the repository;"
                    + " set -Darbor.shared.dir to its location)");
        }
        return path;
    }

    public static Path stories260kGguf() {
        return file("models/stories260K/stories260K.gguf");
    }

    public static Path stories260kBin() {
        return file("models/stories260K/stories260K.bin");
    }

    public static Path stories260kTokenizer() {
        return file("models/stories260K/tok512.bin");
    }

    public static Path book(String name) {
        return file("data/" + name);
    }

}
