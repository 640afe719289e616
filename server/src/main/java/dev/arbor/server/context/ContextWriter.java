package dev.arbor.server.context;

import dev.arbor.server.model.SpanEncoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * Appends one ingestion's text or token ids to a context: cuts it into sentence spans, tokenizes
 * and encodes them, and commits them to the store in steps of {@value #STEP_SEGMENTS} spans.
 * Between steps it asks whether the ingestion was cancelled, so a cancelled call stops within one
 * step and leaves only whole, committed steps behind.
 */
public final class ContextWriter {
    static final int STEP_SEGMENTS = 64;
    private static final int MAX_SEGMENT_CHARS = 400;

    private final StoredContext context;
    private final SpanEncoder encoder;
    private final BooleanSupplier cancelled;
    private SentenceSegmenter segmenter;
    private long tokensCommitted;

    public ContextWriter(StoredContext context, BooleanSupplier cancelled) {
        this.context = context;
        this.encoder = context.encoder();
        this.cancelled = cancelled;
        this.segmenter = new SentenceSegmenter(context.chars(), MAX_SEGMENT_CHARS);
    }

    /** Tokens this writer has committed so far. */
    public long tokensCommitted() {
        return tokensCommitted;
    }

    /** Characters received but held back until a sentence boundary or {@link #finish}. */
    public int heldBackChars() {
        return segmenter.heldBack();
    }

    public void appendText(String text) {
        commitInSteps(segmenter.append(text));
    }

    /**
     * Appends token ids, after the text held back so far. Each run of ids becomes spans whose text
     * is the ids decoded by the model's tokenizer.
     *
     * @throws IllegalArgumentException naming the first id outside the vocabulary; nothing is committed
     */
    public void appendTokens(long[] ids) {
        int vocabulary = encoder.info().vocabularySize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabulary) {
                throw new IllegalArgumentException("token id " + ids[i] + " at index " + i + " of the chunk is outside"
                        + " the vocabulary of model '" + encoder.info().name() + "' (ids must be 0 to "
                        + (vocabulary - 1) + ")");
            }
        }
        finish();
        int perSpan = Math.min(encoder.info().maxSpanTokens(), 128);
        List<Segment> segments = new ArrayList<>();
        List<long[]> pieces = new ArrayList<>();
        long start = context.chars();
        for (int from = 0; from < ids.length; from += perSpan) {
            long[] piece = Arrays.copyOfRange(ids, from, Math.min(ids.length, from + perSpan));
            String text = encoder.detokenize(piece) + "\n";
            segments.add(new Segment(start, text));
            pieces.add(piece);
            start += text.length();
        }
        commitInSteps(segments, pieces);
        segmenter = new SentenceSegmenter(context.chars(), MAX_SEGMENT_CHARS);
    }

    /** Commits the text held back; call when the stream ends. */
    public void finish() {
        commitInSteps(segmenter.finish());
    }

    private void commitInSteps(List<Segment> segments) {
        List<long[]> ids = new ArrayList<>(segments.size());
        for (Segment segment : segments) {
            ids.add(encoder.tokenize(segment.text()));
        }
        commitInSteps(segments, ids);
    }

    private void commitInSteps(List<Segment> segments, List<long[]> ids) {
        for (int from = 0; from < segments.size(); from += STEP_SEGMENTS) {
            if (cancelled.getAsBoolean() || context.deleted()) {
                throw new CancellationException(context.deleted() ? "the context was deleted" : "ingestion cancelled");
            }
            int to = Math.min(segments.size(), from + STEP_SEGMENTS);
            commitStep(segments.subList(from, to), ids.subList(from, to));
        }
    }

    private void commitStep(List<Segment> segments, List<long[]> ids) {
        int[] counts = new int[segments.size()];
        List<long[]> toEncode = new ArrayList<>();
        int maxTokens = encoder.info().maxSpanTokens();
        for (int i = 0; i < counts.length; i++) {
            long[] spanIds = ids.get(i);
            counts[i] = spanIds.length;
            if (spanIds.length > 0) {
                // A vector sees at most the model's window; every token still counts as committed.
                toEncode.add(spanIds.length > maxTokens ? Arrays.copyOf(spanIds, maxTokens) : spanIds);
            }
        }
        float[][] encoded = encoder.encode(toEncode);
        float[][] vectors = new float[counts.length][];
        for (int i = 0, next = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                vectors[i] = encoded[next++];
            }
        }
        context.commit(segments, counts, vectors);
        for (int count : counts) {
            tokensCommitted += count;
        }
    }
}
