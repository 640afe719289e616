package dev.arbor.bench;

import dev.arbor.encoder.DocumentEncoder;
import dev.arbor.encoder.EncodedTokens;
import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.encoder.WindowPlan;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The real retrieval workload: the MiniLM encoder's 384-dimensional contextual token vectors over
 * text files, read in order until {@code n} keys and then a held-out stretch for the queries, so no
 * query is itself a key. Keys and values are both the token vectors (cross-attention over a document).
 * The token stream is taken from a {@link VectorCache} when one holds enough of it, else encoded
 * (about ten minutes of one core per million tokens) and stored there.
 */
final class CorpusKeys {
    private static final int PIECE_CHARS = 64 * 1024;
    /** Held-out tokens per query: queries are spread over this much text after the keys. */
    private static final int QUERY_STRIDE = 7;
    /** The shortest stream the cache stores while encoding a longer one. */
    private static final int FIRST_CHECKPOINT = 1 << 16;
    /** Resources whose bytes decide the vectors, digested into the cache identity. */
    private static final List<String> MODEL_RESOURCES =
            List.of("/all-minilm-l6-v2.onnx", "/all-minilm-l6-v2-tokenizer.json");

    final int dim = MiniLmEncoder.DIMENSION;
    final float[] keys;
    final float[][] queries;
    final int count;

    /** {@code cache} may be null: then the corpus is encoded and nothing is stored. */
    CorpusKeys(List<Path> files, int n, int queryCount, VectorCache cache) {
        long neededTokens = (long) n + (long) queryCount * QUERY_STRIDE;
        if (neededTokens * dim > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("--n " + n + " and " + queryCount + " queries need " + neededTokens
                    + " token vectors, more than one Java array holds");
        }
        int needed = (int) neededTokens;
        // Digesting the model and the corpus reads ~100 MB: once per run, not per checkpoint.
        String identity = cache == null ? null : identity(files);
        float[] vectors = cache == null ? null : cachedStream(cache, identity, needed);
        if (vectors == null) {
            vectors = encode(files, needed, cache, identity);
            store(cache, identity, vectors, needed);
        }
        this.count = n;
        this.keys = Arrays.copyOf(vectors, n * dim);
        this.queries = new float[queryCount][];
        for (int i = 0; i < queryCount; i++) {
            int token = n + i * QUERY_STRIDE;
            queries[i] = Arrays.copyOfRange(vectors, token * dim, (token + 1) * dim);
        }
    }

    private void store(VectorCache cache, String identity, float[] vectors, int tokens) {
        if (cache != null) {
            Path stored = cache.write(identity, dim, vectors, tokens);
            System.err.printf("vector cache: stored %,d tokens in %s%n", tokens, stored);
        }
    }

    private float[] cachedStream(VectorCache cache, String identity, int needed) {
        float[] vectors = cache.read(identity, dim, needed).orElse(null);
        if (vectors != null) {
            System.err.printf("vector cache: read %,d tokens from %s%n", needed, cache.directory());
        }
        return vectors;
    }

    /**
     * Encodes the first {@code needed} tokens. On the way it stores checkpoints, the stream's first
     * 17/16 of each power of two from 2^16 on, so shorter runs can use the cache before a long encoding ends.
     */
    private float[] encode(List<Path> files, int needed, VectorCache cache, String identity) {
        float[] vectors = new float[needed * dim];
        int filled = 0;
        long checkpoint = FIRST_CHECKPOINT + FIRST_CHECKPOINT / 16;
        try (MiniLmEncoder encoder = MiniLmEncoder.open(new SessionFactory(SessionSettings.defaults()))) {
            for (Path file : files) {
                String text = read(file);
                DocumentEncoder document = encoder.newDocument();
                for (int at = 0; at < text.length() && filled < needed; at += PIECE_CHARS) {
                    filled = copy(document.append(text.substring(at, Math.min(text.length(), at + PIECE_CHARS))),
                            vectors, filled, needed);
                    System.err.printf("encoded %,d of %,d tokens%n", filled, needed);
                    if (filled >= checkpoint && filled < needed) {
                        store(cache, identity, vectors, (int) checkpoint);
                        checkpoint *= 2;
                    }
                }
                if (filled < needed) {
                    filled = copy(document.finish(), vectors, filled, needed);
                } else {
                    break;
                }
            }
        }
        if (filled < needed) {
            throw new IllegalArgumentException("the corpus gives " + filled + " tokens but " + needed
                    + " are needed for the keys and queries; pass more --corpus files or a smaller --n");
        }
        return vectors;
    }

    /**
     * What the token stream depends on: the model and tokenizer bytes, how text is fed to the encoder,
     * and each file's bytes, in order. Digests rather than paths and modification times, so a corpus
     * copied or provisioned again still finds its vectors (13 MB of text digest in a few milliseconds).
     * The stream's prefix does not depend on its length.
     */
    static String identity(List<Path> files) {
        StringBuilder identity = new StringBuilder("MiniLM token vectors, dim ").append(MiniLmEncoder.DIMENSION);
        for (String resource : MODEL_RESOURCES) {
            identity.append("; ").append(resource).append(" sha256 ").append(resourceDigest(resource));
        }
        identity.append("; ").append(WindowPlan.defaults()).append("; pieces of ").append(PIECE_CHARS).append(" chars");
        for (Path file : files) {
            try (InputStream in = Files.newInputStream(file)) {
                identity.append("; ").append(file.getFileName()).append(" sha256 ").append(sha256(in));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read corpus file " + file + ": " + e.getMessage(), e);
            }
        }
        return identity.toString();
    }

    private static String resourceDigest(String resource) {
        try (InputStream in = MiniLmEncoder.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource.substring(1) + " is not on the classpath");
            }
            return sha256(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource + ": " + e.getMessage(), e);
        }
    }

    private static String sha256(InputStream in) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (DigestInputStream digesting = new DigestInputStream(in, digest)) {
                digesting.transferTo(java.io.OutputStream.nullOutputStream());
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private int copy(EncodedTokens tokens, float[] vectors, int filled, int needed) {
        int take = Math.min(tokens.size(), needed - filled);
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
