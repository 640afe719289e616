package dev.arbor.weights;

import java.nio.file.Path;

/** A weight, configuration or tokenizer file that Arbor cannot use; the message names the file and the problem. */
public final class ModelFileException extends RuntimeException {
    private final Path file;

    public ModelFileException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
