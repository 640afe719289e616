package dev.arbor.server.context;

import dev.arbor.retrieval.Span;
import dev.arbor.server.model.ContextModel;
import dev.arbor.server.model.DocumentIndex;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One context: its descriptor, its model's index over the text and the text log on disk. At most
 * one ingestion writes to it at a time ({@link #tryBeginIngest}); any number of queries read the
 * committed part meanwhile.
 */
public final class StoredContext implements AutoCloseable {
    public enum State { EMPTY, INGESTING, READY }

    private final ContextDescriptor descriptor;
    private final ContextModel model;
    private final Path directory;
    private final DocumentIndex index;
    private final TextLog text;
    private final AtomicBoolean ingesting = new AtomicBoolean();
    private volatile boolean deleted;

    StoredContext(ContextDescriptor descriptor, ContextModel model, Path directory) {
        this.descriptor = descriptor;
        this.model = model;
        this.directory = directory;
        this.index = model.newIndex(descriptor.attention());
        this.text = new TextLog(directory.resolve("text.txt"));
    }

    /** Re-indexes the text an earlier run stored; the model's vectors are rebuilt from it. */
    void reindex() {
        String stored = text.readAll();
        if (!stored.isEmpty()) {
            DocumentIndex.Appender appender = index.appender();
            appender.append(stored);
            appender.finish();
        }
    }

    public ContextDescriptor descriptor() {
        return descriptor;
    }

    public ContextModel model() {
        return model;
    }

    Path directory() {
        return directory;
    }

    public State state() {
        if (ingesting.get()) {
            return State.INGESTING;
        }
        return index.tokens() == 0 ? State.EMPTY : State.READY;
    }

    public long tokens() {
        return index.tokens();
    }

    public long chars() {
        return index.chars();
    }

    public long bytesOnDisk() {
        return text.bytes();
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

    /** Stores text on disk, then indexes it. */
    long append(DocumentIndex.Appender appender, CharSequence piece) {
        text.append(piece);
        return appender.append(piece);
    }

    DocumentIndex.Appender newAppender() {
        return index.appender();
    }

    /** The model's index over this context, for what goes beyond retrieval (generation). */
    public DocumentIndex index() {
        return index;
    }

    public List<Span> retrieve(String question, int k) {
        return index.retrieve(question, k);
    }

    void markDeleted() {
        deleted = true;
    }

    @Override
    public void close() {
        text.close();
    }
}
