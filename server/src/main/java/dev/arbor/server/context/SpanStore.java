package dev.arbor.server.context;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/**
 * A context's committed text, spans and span vectors, in three append-only files:
 * {@code text.txt} (the ingested UTF-8 text), {@code vectors.f32} (one unit vector per span) and
 * {@code spans.bin} (one fixed-size record per span, written last so that it marks what is
 * committed). Vectors are also held in memory for search; span text is read back from disk.
 *
 * <p>One writer at a time (the context's ingestion); readers see a consistent prefix.
 */
final class SpanStore implements AutoCloseable {
    private static final int RECORD_BYTES = 8 + 4 + 8 + 4 + 8 + 4;

    private final int dimension;
    private final FileChannel text;
    private final FileChannel spans;
    private final FileChannel vectorFile;

    private long[] charStart = new long[1024];
    private int[] charLength = new int[1024];
    private long[] byteStart = new long[1024];
    private int[] byteLength = new int[1024];
    private long[] firstToken = new long[1024];
    private float[] vectors;
    private volatile int count;
    private volatile long tokens;
    private volatile long chars;
    private long textBytes;

    SpanStore(Path directory, int dimension) {
        this.dimension = dimension;
        this.vectors = new float[1024 * dimension];
        try {
            Files.createDirectories(directory);
            this.text = open(directory.resolve("text.txt"));
            this.vectorFile = open(directory.resolve("vectors.f32"));
            this.spans = open(directory.resolve("spans.bin"));
            load();
        } catch (IOException e) {
            throw new UncheckedIOException("could not open the context store in " + directory, e);
        }
    }

    /**
     * Commits text and its spans. {@code encoded} lists, in order, each segment's token count and
     * vector (null vector for segments without tokens, which are stored as text only).
     */
    synchronized void append(List<Segment> segments, int[] tokenCounts, float[][] segmentVectors) {
        try {
            ByteBuffer vectorBytes = ByteBuffer.allocate(segments.size() * dimension * 4).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer records = ByteBuffer.allocate(segments.size() * RECORD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            StringBuilder joined = new StringBuilder();
            long nextByte = textBytes;
            long nextToken = tokens;
            int added = 0;
            for (int i = 0; i < segments.size(); i++) {
                Segment segment = segments.get(i);
                byte[] bytes = segment.text().getBytes(StandardCharsets.UTF_8);
                joined.append(segment.text());
                if (tokenCounts[i] > 0) {
                    String trimmed = segment.text().stripTrailing();
                    records.putLong(segment.start()).putInt(trimmed.length())
                            .putLong(nextByte).putInt(trimmed.getBytes(StandardCharsets.UTF_8).length)
                            .putLong(nextToken).putInt(tokenCounts[i]);
                    for (float v : segmentVectors[i]) {
                        vectorBytes.putFloat(v);
                    }
                    added++;
                }
                nextByte += bytes.length;
                nextToken += tokenCounts[i];
            }
            writeFully(text, ByteBuffer.wrap(joined.toString().getBytes(StandardCharsets.UTF_8)));
            writeFully(vectorFile, vectorBytes.flip());
            writeFully(spans, records.flip());
            index(records.rewind(), vectorBytes.rewind(), added);
            textBytes = nextByte;
            chars += joined.length();
            tokens = nextToken;
        } catch (IOException e) {
            throw new UncheckedIOException("could not append to the context store", e);
        }
    }

    int spanCount() {
        return count;
    }

    long tokens() {
        return tokens;
    }

    long chars() {
        return chars;
    }

    long bytesOnDisk() {
        try {
            return text.size() + spans.size() + vectorFile.size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code k} spans whose vectors have the highest dot product with {@code query}, best first. */
    List<ScoredSpan> search(float[] query, int k) {
        int n = count;
        float[] v = vectors;
        TopK top = new TopK(k);
        for (int s = 0; s < n; s++) {
            int base = s * dimension;
            float dot = 0;
            for (int d = 0; d < dimension; d++) {
                dot += query[d] * v[base + d];
            }
            top.offer(s, dot);
        }
        return top.best().stream().map(hit -> span(hit.index(), hit.score())).toList();
    }

    private ScoredSpan span(int s, float score) {
        ByteBuffer bytes = ByteBuffer.allocate(byteLength[s]);
        try {
            text.read(bytes, byteStart[s]);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read span text", e);
        }
        String content = new String(bytes.array(), 0, bytes.position(), StandardCharsets.UTF_8);
        return new ScoredSpan(content, charStart[s], charStart[s] + charLength[s], score, firstToken[s]);
    }

    private void index(ByteBuffer records, ByteBuffer vectorBytes, int added) {
        int n = count;
        ensureCapacity(n + added);
        for (int i = 0; i < added; i++) {
            charStart[n + i] = records.getLong();
            charLength[n + i] = records.getInt();
            byteStart[n + i] = records.getLong();
            byteLength[n + i] = records.getInt();
            firstToken[n + i] = records.getLong();
            records.getInt();
        }
        vectorBytes.asFloatBuffer().get(vectors, n * dimension, added * dimension);
        count = n + added;
    }

    private void ensureCapacity(int spansNeeded) {
        if (spansNeeded <= charStart.length) {
            return;
        }
        int capacity = Math.max(spansNeeded, charStart.length * 2);
        charStart = Arrays.copyOf(charStart, capacity);
        charLength = Arrays.copyOf(charLength, capacity);
        byteStart = Arrays.copyOf(byteStart, capacity);
        byteLength = Arrays.copyOf(byteLength, capacity);
        firstToken = Arrays.copyOf(firstToken, capacity);
        vectors = Arrays.copyOf(vectors, capacity * dimension);
    }

    /** Reopens what an earlier run committed, dropping any tail a crash left half-written. */
    private void load() throws IOException {
        int committed = (int) Math.min(spans.size() / RECORD_BYTES, vectorFile.size() / (4L * dimension));
        ByteBuffer records = ByteBuffer.allocate(committed * RECORD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        spans.read(records, 0);
        ByteBuffer vectorBytes = ByteBuffer.allocate(committed * dimension * 4).order(ByteOrder.LITTLE_ENDIAN);
        vectorFile.read(vectorBytes, 0);
        spans.truncate((long) committed * RECORD_BYTES);
        vectorFile.truncate((long) committed * dimension * 4);
        index(records.flip(), vectorBytes.flip(), committed);
        if (committed > 0) {
            int last = committed - 1;
            long end = byteStart[last] + byteLength[last];
            ByteBuffer textBytesRead = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8, text.size()));
            text.read(textBytesRead, 0);
            String all = new String(textBytesRead.array(), 0, textBytesRead.position(), StandardCharsets.UTF_8);
            textBytes = text.size();
            chars = all.length();
            tokens = firstToken[last] + lastTokenCount(records);
            if (end > textBytes) {
                throw new IOException("text.txt is shorter than its spans claim");
            }
        } else {
            text.truncate(0);
        }
    }

    private int lastTokenCount(ByteBuffer records) {
        return records.getInt(records.limit() - 4);
    }

    private static FileChannel open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        channel.position(channel.size());
        return channel;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    @Override
    public synchronized void close() {
        try (text; spans; vectorFile) {
            // closing is all there is to do
        } catch (IOException e) {
            throw new UncheckedIOException("could not close the context store", e);
        }
    }
}
