package dev.arbor.cli;

import dev.arbor.client.IngestProgress;
import dev.arbor.client.ProgressListener;
import java.io.PrintWriter;

/** Draws ingestion progress on one terminal line: bar, tokens, tokens/s and time left. */
final class ProgressBar implements ProgressListener {
    private static final int WIDTH = 30;
    private final PrintWriter out;
    private final long started = System.nanoTime();
    private long lastDrawn;

    ProgressBar(PrintWriter out) {
        this.out = out;
    }

    @Override
    public synchronized void onProgress(IngestProgress p) {
        long now = System.nanoTime();
        if (!p.done() && now - lastDrawn < 200_000_000L) {
            return;
        }
        lastDrawn = now;
        double seconds = Math.max(1e-3, (now - started) / 1e9);
        double fraction = p.bytesTotal() > 0 ? Math.min(1, (double) p.bytesSent() / p.bytesTotal()) : 0;
        int filled = (int) Math.round(fraction * WIDTH);
        String eta = fraction > 0 && !p.done() ? clock(seconds / fraction - seconds) : p.done() ? "done" : "?";
        out.printf("\r[%s%s] %3.0f%% %,d tokens %,.0f tok/s ETA %s   ", "#".repeat(filled), " ".repeat(WIDTH - filled),
                fraction * 100, p.tokensCommitted(), p.tokensCommitted() / seconds, eta);
        if (p.done()) {
            out.println();
        }
        out.flush();
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format("%d:%02d", s / 60, s % 60);
    }
}
