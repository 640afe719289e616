package dev.arbor.server.context;

import dev.arbor.server.model.DocumentIndex;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * Appends one ingestion's text or token ids to a context, in steps of at most
 * {@value #STEP_CHARS} characters. Before each step it asks whether the ingestion was cancelled, so
 * a cancelled call stops within one step and leaves behind only whole, committed steps.
 */
public final class ContextWriter {
    /** About a thousand tokens: a second or so of model time on two cores. */
    static final int STEP_CHARS = 4096;

    private final StoredContext context;
    private final BooleanSupplier cancelled;
    private final Runnable afterStep;
    private final DocumentIndex.Appender appender;
    private long tokensCommitted;

    /**
     * @param cancelled asked before each step; true stops the ingestion
     * @param afterStep runs after each step, e.g. to report progress
     */
    public ContextWriter(StoredContext context, BooleanSupplier cancelled, Runnable afterStep) {
        this.context = context;
        this.cancelled = cancelled;
        this.afterStep = afterStep;
        this.appender = context.newAppender();
    }

    /** Tokens this writer has committed so far. */
    public long tokensCommitted() {
        return tokensCommitted;
    }

    public void appendText(String text) {
        int from = 0;
        while (from < text.length()) {
            checkNotCancelled();
            int to = Math.min(text.length(), from + STEP_CHARS);
            if (to < text.length() && Character.isHighSurrogate(text.charAt(to - 1))) {
                to--;
            }
            tokensCommitted = context.append(appender, text.substring(from, to));
            from = to;
            afterStep.run();
        }
    }

    /**
     * Appends token ids as the text they decode to, after the text so far.
     *
     * @throws IllegalArgumentException naming the first id outside the vocabulary; nothing is appended
     */
    public void appendTokens(long[] ids) {
        var model = context.model().info();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= model.vocabularySize()) {
                throw new IllegalArgumentException("token id " + ids[i] + " at index " + i + " of the chunk is outside"
                        + " the vocabulary of model '" + model.name() + "' (ids must be 0 to "
                        + (model.vocabularySize() - 1) + ")");
            }
        }
        appendText(context.model().detokenize(ids) + " ");
    }

    /** Commits what is pending; call when the stream ends. */
    public void finish() {
        checkNotCancelled();
        tokensCommitted = appender.finish();
    }

    private void checkNotCancelled() {
        if (cancelled.getAsBoolean() || context.deleted()) {
            throw new CancellationException(context.deleted() ? "the context was deleted" : "ingestion cancelled");
        }
    }
}
