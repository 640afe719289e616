package dev.arbor.encoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Encodes one document that arrives in pieces cut anywhere (mid-word, mid-line), emitting tokens
 * with their contextual vectors as soon as the windows that own them have run. Feed pieces with
 * {@link #append}, then call {@link #finish} once; the tokens returned by all calls, in order,
 * are exactly the tokens the tokenizer gives for the whole text.
 *
 * <p>Text is tokenized only up to the last whitespace seen, because word pieces never cross
 * whitespace: a piece boundary inside a word waits for the rest of the word. Memory stays bounded
 * by one batch of windows plus the text since the last whitespace. Not thread-safe: one ingest
 * stream drives one document.
 */
public final class DocumentEncoder {
    /** A run of text this long with no whitespace is tokenized anyway, so memory stays bounded. */
    static final int MAX_UNBROKEN_CHARS = 1 << 16;

    private final MiniLmEncoder encoder;
    private final WindowPlan plan;
    private final StringBuilder untokenized = new StringBuilder();
    private long untokenizedStart;
    private final TokenQueue queue = new TokenQueue();
    private long committed;
    private long nextWindowStart;
    private boolean finished;

    DocumentEncoder(MiniLmEncoder encoder, WindowPlan plan) {
        this.encoder = encoder;
        this.plan = Objects.requireNonNull(plan, "window plan");
    }

    /** Adds the next piece of the document; returns the tokens whose vectors are now final (maybe none). */
    public EncodedTokens append(CharSequence piece) {
        Objects.requireNonNull(piece, "text piece");
        if (finished) {
            throw new IllegalStateException("this document is finished; start a new DocumentEncoder for more text");
        }
        untokenized.append(piece);
        tokenizeUpTo(stableLength());
        return runWindows(false);
    }

    /** Ends the document: encodes everything still pending and returns those tokens. */
    public EncodedTokens finish() {
        if (finished) {
            throw new IllegalStateException("finish() was already called for this document");
        }
        finished = true;
        tokenizeUpTo(untokenized.length());
        return runWindows(true);
    }

    /** Tokens emitted so far. */
    public long committedTokens() {
        return committed;
    }

    /** Characters received so far. */
    public long receivedChars() {
        return untokenizedStart + untokenized.length();
    }

    public WindowPlan plan() {
        return plan;
    }

    /** Length of the untokenized prefix that later text cannot change: up to the last whitespace. */
    private int stableLength() {
        for (int i = untokenized.length() - 1; i >= 0; i--) {
            if (isBertWhitespace(untokenized.charAt(i))) {
                return i + 1;
            }
        }
        if (untokenized.length() < MAX_UNBROKEN_CHARS) {
            return 0;
        }
        int end = untokenized.length();
        return Character.isHighSurrogate(untokenized.charAt(end - 1)) ? end - 1 : end;
    }

    /**
     * Only the characters BERT's pre-tokenizer always splits on; other Unicode spaces may be
     * removed or merged by normalisation, so cutting there could change the tokens.
     */
    private static boolean isBertWhitespace(char c) {
        return c == ' ' || c == '\n' || c == '\t' || c == '\r';
    }

    private void tokenizeUpTo(int length) {
        if (length == 0) {
            return;
        }
        String segment = untokenized.substring(0, length);
        TokenizedText tokens = encoder.tokenizer().tokenize(segment);
        queue.add(tokens, untokenizedStart);
        untokenized.delete(0, length);
        untokenizedStart += length;
    }

    private EncodedTokens runWindows(boolean last) {
        EncodedTokens.Builder emitted = new EncodedTokens.Builder(committed, encoder.dimension());
        int window = plan.windowTokens();
        int stride = plan.strideTokens();
        while (true) {
            List<Long> starts = new ArrayList<>();
            for (long s = nextWindowStart; s + window <= queue.end() && starts.size() < plan.batchWindows(); s += stride) {
                starts.add(s);
            }
            if (starts.isEmpty()) {
                break;
            }
            float[][][] states = encoder.runWindows(starts.stream().map(s -> queue.ids(s, s + window)).toList(), false);
            for (int b = 0; b < starts.size(); b++) {
                long start = starts.get(b);
                commit(emitted, states[b], start, start + plan.marginTokens() + stride);
                nextWindowStart = start + stride;
            }
        }
        if (last && committed < queue.end()) {
            // A full-width window ending at the last token, so the tail keeps its left context.
            long start = Math.max(0, queue.end() - window);
            float[][][] states = encoder.runWindows(List.of(queue.ids(start, queue.end())), false);
            commit(emitted, states[0], start, queue.end());
        }
        queue.dropBefore(Math.max(0, Math.min(nextWindowStart, queue.end() - window)));
        return emitted.build();
    }

    /** Takes tokens {@code [committed, until)} from a window that starts at token {@code windowStart}. */
    private void commit(EncodedTokens.Builder emitted, float[][] windowStates, long windowStart, long until) {
        for (long t = committed; t < until; t++) {
            emitted.add(queue.id(t), queue.start(t), queue.end(t), windowStates[(int) (t - windowStart)]);
        }
        committed = until;
    }

    static EncodedTokens concat(EncodedTokens head, EncodedTokens tail) {
        EncodedTokens.Builder all = new EncodedTokens.Builder(head.firstToken(), head.dimension());
        for (EncodedTokens part : List.of(head, tail)) {
            for (int i = 0; i < part.size(); i++) {
                all.add(part.ids()[i], part.starts()[i], part.ends()[i], part.vector(i));
            }
        }
        return all.build();
    }

    /** Tokenized but not yet fully used tokens, indexed by their position in the document. */
    private static final class TokenQueue {
        private long base;
        private int size;
        private long[] ids = new long[1024];
        private long[] starts = new long[1024];
        private long[] ends = new long[1024];

        long end() {
            return base + size;
        }

        void add(TokenizedText tokens, long charOffset) {
            int needed = size + tokens.size();
            if (needed > ids.length) {
                int capacity = Math.max(needed, ids.length * 2);
                ids = Arrays.copyOf(ids, capacity);
                starts = Arrays.copyOf(starts, capacity);
                ends = Arrays.copyOf(ends, capacity);
            }
            for (int i = 0; i < tokens.size(); i++) {
                ids[size] = tokens.ids()[i];
                starts[size] = charOffset + tokens.starts()[i];
                ends[size] = charOffset + tokens.ends()[i];
                size++;
            }
        }

        void dropBefore(long token) {
            int drop = (int) (token - base);
            if (drop <= 0) {
                return;
            }
            System.arraycopy(ids, drop, ids, 0, size - drop);
            System.arraycopy(starts, drop, starts, 0, size - drop);
            System.arraycopy(ends, drop, ends, 0, size - drop);
            size -= drop;
            base = token;
        }

        long[] ids(long from, long to) {
            return Arrays.copyOfRange(ids, (int) (from - base), (int) (to - base));
        }

        long id(long token) {
            return ids[(int) (token - base)];
        }

        long start(long token) {
            return starts[(int) (token - base)];
        }

        long end(long token) {
            return ends[(int) (token - base)];
        }
    }
}
