package dev.arbor.retrieval;

/** A document's text kept in memory as it arrives; readers may slice it while pieces are appended. */
public final class TextBuffer implements DocumentText {
    private final StringBuilder text = new StringBuilder();

    public synchronized void append(CharSequence piece) {
        text.append(piece);
    }

    public synchronized long length() {
        return text.length();
    }

    @Override
    public synchronized String slice(long start, long end) {
        if (start < 0 || end < start || end > text.length()) {
            throw new IndexOutOfBoundsException(
                    "characters [" + start + ", " + end + ") are outside the document's " + text.length());
        }
        return text.substring((int) start, (int) end);
    }
}
