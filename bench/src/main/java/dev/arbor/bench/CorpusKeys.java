package dev.arbor.bench;

import dev.arbor.encoder.DocumentEncoder;
import dev.arbor.encoder.EncodedTokens;
import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The real retrieval workload: the MiniLM encoder's 384-dimensional contextual token vectors over
 * text files, read in order until {@code n} keys and then a held-out stretch for the queries, so no
 * query is itself a key. Keys and values are both the token vectors (cross-attention over a document).
 */
final class CorpusKeys {
    private static final int PIECE_CHARS = 64 * 1024;
    /** Held-out tokens per query: queries are spread over this much text after the keys. */
    private static final int QUERY_STRIDE = 7;

    final int dim = MiniLmEncoder.DIMENSION;
    final float[] keys;
    final float[][] queries;
    final int count;

    CorpusKeys(List<Path> files, int n, int queryCount) {
        long needed = (long) n + (long) queryCount * QUERY_STRIDE;
        float[] vectors = new float[Math.toIntExact(needed * dim)];
        int filled = 0;
        try (MiniLmEncoder encoder = MiniLmEncoder.open(new SessionFactory(SessionSettings.defaults()))) {
            for (Path file : files) {
                String text = read(file);
                DocumentEncoder document = encoder.newDocument();
                for (int at = 0; at < text.length() && filled < needed; at += PIECE_CHARS) {
                    filled = copy(document.append(text.substring(at, Math.min(text.length(), at + PIECE_CHARS))),
                            vectors, filled, needed);
                    System.err.printf("encoded %,d of %,d tokens%n", filled, needed);
                }
                if (filled < needed) {
                    filled = copy(document.finish(), vectors, filled, needed);
                } else {
                    break;
                }
            }
        }
        if (filled < needed) {
            throw new IllegalArgumentException("the corpus gives " + filled + " tokens but --n " + n + " and "
                    + queryCount + " queries need " + needed + "; pass more --corpus files or a smaller --n");
        }
        this.count = n;
        this.keys = java.util.Arrays.copyOf(vectors, n * dim);
        this.queries = new float[queryCount][];
        for (int i = 0; i < queryCount; i++) {
            int token = n + i * QUERY_STRIDE;
            queries[i] = java.util.Arrays.copyOfRange(vectors, token * dim, (token + 1) * dim);
        }
    }

    private int copy(EncodedTokens tokens, float[] vectors, int filled, long needed) {
        int take = (int) Math.min(tokens.size(), needed - filled);
        System.arraycopy(tokens.vectors(), 0, vectors, filled * dim, take * dim);
        return filled + take;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read corpus file " + file + ": " + e.getMessage(), e);
        }
    }
}
