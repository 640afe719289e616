package dev.arbor.server.context;

import dev.arbor.server.model.SpanEncoder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One context: its descriptor, its model and its span store. At most one ingestion writes to it at
 * a time ({@link #tryBeginIngest}); any number of queries read the committed prefix meanwhile.
 */
public final class StoredContext implements AutoCloseable {
    public enum State { EMPTY, INGESTING, READY }

    private final ContextDescriptor descriptor;
    private final SpanEncoder encoder;
    private final Path directory;
    private final SpanStore store;
    private final AtomicBoolean ingesting = new AtomicBoolean();
    private volatile boolean deleted;

    StoredContext(ContextDescriptor descriptor, SpanEncoder encoder, Path directory) {
        this.descriptor = descriptor;
        this.encoder = encoder;
        this.directory = directory;
        this.store = new SpanStore(directory, encoder.info().dimension());
    }

    public ContextDescriptor descriptor() {
        return descriptor;
    }

    public SpanEncoder encoder() {
        return encoder;
    }

    Path directory() {
        return directory;
    }

    public State state() {
        if (ingesting.get()) {
            return State.INGESTING;
        }
        return store.tokens() == 0 ? State.EMPTY : State.READY;
    }

    public long tokens() {
        return store.tokens();
    }

    public long chars() {
        return store.chars();
    }

    public long bytesOnDisk() {
        return store.bytesOnDisk();
    }

    public boolean deleted() {
        return deleted;
    }

    /** Claims the context for one ingestion; false if another is running. */
    public boolean tryBeginIngest() {
        return ingesting.compareAndSet(false, true);
    }

    public void endIngest() {
        ingesting.set(false);
    }

    /** Commits segments with their token counts and vectors (see {@link SpanStore#append}). */
    void commit(List<Segment> segments, int[] tokenCounts, float[][] vectors) {
        store.append(segments, tokenCounts, vectors);
    }

    public List<ScoredSpan> search(float[] query, int k) {
        return store.search(query, k);
    }

    void markDeleted() {
        deleted = true;
    }

    @Override
    public void close() {
        store.close();
    }
}
