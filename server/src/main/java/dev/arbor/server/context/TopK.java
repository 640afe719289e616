package dev.arbor.server.context;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/** Keeps the {@code k} highest scores offered to it. */
final class TopK {
    record Hit(int index, float score) {}

    private final int k;
    private final PriorityQueue<Hit> worstFirst = new PriorityQueue<>(Comparator.comparingDouble(Hit::score));

    TopK(int k) {
        this.k = k;
    }

    void offer(int index, float score) {
        if (worstFirst.size() < k) {
            worstFirst.add(new Hit(index, score));
        } else if (score > worstFirst.peek().score()) {
            worstFirst.poll();
            worstFirst.add(new Hit(index, score));
        }
    }

    List<Hit> best() {
        List<Hit> hits = new ArrayList<>(worstFirst);
        hits.sort(Comparator.comparingDouble(Hit::score).reversed());
        return hits;
    }
}
