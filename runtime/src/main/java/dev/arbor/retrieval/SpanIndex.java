package dev.arbor.retrieval;

import dev.arbor.encoder.EncodedTokens;
import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.encoder.MiniLmTokenizer;
import dev.arbor.encoder.Vectors;
import dev.arbor.tree.AttentionTree;
import dev.arbor.tree.SearchParams;
import dev.arbor.tree.SearchResult;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The retrieval keys of one document: its tokens, as they are encoded, are grouped into sentence
 * spans, each span's contextual token vectors are mean-pooled and L2-normalised into one key, and
 * the key goes into an {@link AttentionTree} (dimension 384, one head) at the span's ordinal. A
 * question's vector then finds its best spans through the tree in about log N node visits.
 *
 * <p>Spans end after a sentence's final punctuation (with any closing quote), at a paragraph break,
 * or after {@value #MAX_SPAN_TOKENS} tokens, so they never overlap and cover every token.
 *
 * <p><b>Why pooled span keys, not token keys.</b> Measured by {@code RetrievalAccuracyBenchmark}
 * (9 facts planted at 5%..95% depth of 300,000 characters of The Count of Monte Cristo, 71,782
 * tokens, 3,307 spans, default windows): with questions that share words with the fact, pooled span
 * keys put the fact first 9/9 times, like late interaction over token keys (sum over question
 * tokens of the best token match, 9/9) and better than the best single token against the question
 * embedding (6/9); with paraphrased questions pooled spans put it first most often (5/9, against
 * 4/9 and 2/9), though late interaction had the better mean rank (13.7 against 18.4). Pooled keys
 * cost one key per ~22 tokens instead of one per token and one tree search per question instead of
 * one per question token. The tree's beam search (beam 100) found the same first span as an exact
 * scan in every case there; on 1 MB of text a beam of 32 missed one needle, so
 * {@link SpanRetriever} searches with a beam of 128 by default.
 *
 * <p>Appends and searches may come from different threads: searches run concurrently with each
 * other, appends exclude them (the tree's own rule).
 */
public final class SpanIndex {
    /** A sentence longer than this is cut, so a span stays one idea. */
    public static final int MAX_SPAN_TOKENS = 64;
    /** A "sentence" this short (an abbreviation, "Mr.") is continued instead of closed. */
    static final int MIN_SPAN_TOKENS = 4;

    private final AttentionTree tree;
    private final Set<Long> sentenceEnds;
    private final Set<Long> closingMarks;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final float[] sum = new float[MiniLmEncoder.DIMENSION];
    private long[] starts = new long[1024];
    private long[] ends = new long[1024];
    private int spans;
    private long openStart = -1;
    private long openEnd;
    private int openTokens;
    private boolean closeAfterQuote;
    private long tokens;

    /** An index over an empty tree of dimension 384 built with the tree's default settings. */
    public SpanIndex(MiniLmTokenizer tokenizer) {
        this(tokenizer, AttentionTree.builder().keyDim(MiniLmEncoder.DIMENSION).valueDim(1).build());
    }

    /** An index whose keys go into {@code tree} (key dimension 384, value dimension 1, empty). */
    public SpanIndex(MiniLmTokenizer tokenizer, AttentionTree tree) {
        if (tree.keyDim() != MiniLmEncoder.DIMENSION || tree.valueDim() != 1) {
            throw new IllegalArgumentException("a span index needs a tree of key dimension " + MiniLmEncoder.DIMENSION
                    + " and value dimension 1, got " + tree.keyDim() + " and " + tree.valueDim());
        }
        if (tree.size() != 0) {
            throw new IllegalArgumentException("a span index starts from an empty tree, this one holds " + tree.size());
        }
        this.tree = tree;
        this.sentenceEnds = idsOf(tokenizer, ".", "!", "?");
        this.closingMarks = idsOf(tokenizer, "\"", "'", "\u201d", "\u2019", ")");
    }

    /** Adds the next tokens of the document, in order. */
    public void add(EncodedTokens batch) {
        lock.writeLock().lock();
        try {
            if (batch.firstToken() != tokens) {
                throw new IllegalArgumentException("tokens must arrive in order: expected token " + tokens
                        + " next, got a batch starting at " + batch.firstToken());
            }
            for (int i = 0; i < batch.size(); i++) {
                addToken(batch, i);
            }
            tokens += batch.size();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Closes the last span; call once the document's last tokens were added. */
    public void finish() {
        lock.writeLock().lock();
        try {
            closeSpan();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The {@code k} spans whose keys have the highest dot product with {@code query}, best first. */
    public SpanHit[] search(float[] query, SearchParams params) {
        lock.readLock().lock();
        try {
            if (spans == 0) {
                return new SpanHit[0];
            }
            SearchResult result = tree.search(query, params);
            SpanHit[] hits = new SpanHit[result.size()];
            for (int i = 0; i < hits.length; i++) {
                int span = (int) result.positions()[i];
                hits[i] = new SpanHit(span, starts[span], ends[span], result.scores()[i]);
            }
            return hits;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Closed spans so far (searchable). */
    public int spanCount() {
        lock.readLock().lock();
        try {
            return spans;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Character range {@code [start, end)} of span {@code span}, as a two-element array. */
    public long[] spanRange(int span) {
        lock.readLock().lock();
        try {
            if (span < 0 || span >= spans) {
                throw new IndexOutOfBoundsException("no span " + span + " among " + spans);
            }
            return new long[] {starts[span], ends[span]};
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Tokens added so far. */
    public long tokenCount() {
        lock.readLock().lock();
        try {
            return tokens;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** One retrieved span: its ordinal, character range and dot product with the query. */
    public record SpanHit(int span, long start, long end, float score) {}

    private void addToken(EncodedTokens batch, int i) {
        long id = batch.ids()[i];
        long start = batch.starts()[i];
        if (closeAfterQuote) {
            closeAfterQuote = false;
            if (closingMarks.contains(id) && start == openEnd) {
                include(batch, i);
                closeSpan();
                return;
            }
            closeSpan();
        }
        if (openTokens > 0 && start - openEnd >= 2) {
            closeSpan(); // a blank line: paragraph break
        }
        include(batch, i);
        if (sentenceEnds.contains(id) && openTokens >= MIN_SPAN_TOKENS) {
            closeAfterQuote = true;
        } else if (openTokens >= MAX_SPAN_TOKENS) {
            closeSpan();
        }
    }

    private void include(EncodedTokens batch, int i) {
        if (openTokens == 0) {
            openStart = batch.starts()[i];
        }
        openEnd = batch.ends()[i];
        int offset = i * batch.dimension();
        for (int d = 0; d < sum.length; d++) {
            sum[d] += batch.vectors()[offset + d];
        }
        openTokens++;
    }

    private void closeSpan() {
        closeAfterQuote = false;
        if (openTokens == 0) {
            return;
        }
        if (spans == starts.length) {
            starts = Arrays.copyOf(starts, spans * 2);
            ends = Arrays.copyOf(ends, spans * 2);
        }
        starts[spans] = openStart;
        ends[spans] = openEnd;
        tree.append(Vectors.normalised(sum.clone()), new float[] {openTokens});
        spans++;
        Arrays.fill(sum, 0f);
        openTokens = 0;
    }

    private static Set<Long> idsOf(MiniLmTokenizer tokenizer, String... marks) {
        return Arrays.stream(marks)
                .map(mark -> tokenizer.tokenize(mark).ids())
                .filter(ids -> ids.length == 1)
                .map(ids -> ids[0])
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
    }
}
