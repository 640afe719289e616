package dev.arbor.server.context;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a stream of text into sentence-sized segments as it arrives. Text after the last boundary
 * is held back until more arrives (or the stream ends), so a sentence split across chunks still
 * becomes one segment. Cuts fall only on whitespace, never inside a word, which keeps the token
 * count of the pieces equal to the token count of the whole text for word-piece tokenizers.
 */
final class SentenceSegmenter {
    private final int maxChars;
    private final StringBuilder pending = new StringBuilder();
    private long pendingStart;

    /** @param start offset of the first character this segmenter will see */
    SentenceSegmenter(long start, int maxChars) {
        this.pendingStart = start;
        this.maxChars = maxChars;
    }

    /** Adds text and returns the segments it completed. */
    List<Segment> append(CharSequence text) {
        pending.append(text);
        List<Segment> out = new ArrayList<>();
        int cut;
        while ((cut = nextCut()) > 0) {
            emit(cut, out);
        }
        return out;
    }

    /** Everything still held back, as segments; the segmenter is then empty. */
    List<Segment> finish() {
        List<Segment> out = new ArrayList<>();
        while (pending.length() > maxChars) {
            emit(forcedCut(), out);
        }
        if (!pending.isEmpty()) {
            emit(pending.length(), out);
        }
        return out;
    }

    /** Characters received but not yet returned in a segment. */
    int heldBack() {
        return pending.length();
    }

    private void emit(int cut, List<Segment> out) {
        out.add(new Segment(pendingStart, pending.substring(0, cut)));
        pending.delete(0, cut);
        pendingStart += cut;
    }

    /** Position just after a sentence end followed by whitespace, or a forced cut when too long; 0 if none. */
    private int nextCut() {
        int limit = Math.min(pending.length() - 1, maxChars);
        for (int i = 0; i < limit; i++) {
            char c = pending.charAt(i);
            char next = pending.charAt(i + 1);
            boolean sentenceEnd = (c == '.' || c == '!' || c == '?' || c == '\n') && Character.isWhitespace(next);
            if (sentenceEnd) {
                return skipWhitespace(i + 1);
            }
        }
        return pending.length() > maxChars ? forcedCut() : 0;
    }

    /** Includes the whitespace after a boundary in the segment, so the next one starts on a word. */
    private int skipWhitespace(int from) {
        int i = from;
        while (i < pending.length() && Character.isWhitespace(pending.charAt(i))) {
            i++;
        }
        // Whitespace running to the end of what has arrived may continue: wait for more.
        return i == pending.length() ? from : i;
    }

    private int forcedCut() {
        for (int i = maxChars; i > maxChars / 2; i--) {
            if (Character.isWhitespace(pending.charAt(i))) {
                return i;
            }
        }
        // A single "word" longer than half the limit: cut it, avoiding a split surrogate pair.
        return Character.isLowSurrogate(pending.charAt(maxChars)) ? maxChars - 1 : maxChars;
    }
}
