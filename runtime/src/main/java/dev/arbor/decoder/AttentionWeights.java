package dev.arbor.decoder;

import java.util.HashMap;
import java.util.Map;

/** Attention weight per context position, summed over heads and layers, to report the most attended. */
final class AttentionWeights {
    private final Map<Integer, Double> byPosition = new HashMap<>();

    void add(int position, double weight) {
        byPosition.merge(position, weight, Double::sum);
    }

    /** Adds only the {@code keep} largest weights: the rest could not make the report. */
    void addStrongest(long[] positions, float[] weights, int keep) {
        int count = Math.min(positions.length, weights.length);
        int[] chosen = new int[Math.min(keep, count)]; // indices into weights, strongest first
        if (chosen.length == 0) {
            return;
        }
        int kept = 0;
        for (int j = 0; j < count; j++) {
            if (kept == chosen.length) {
                if (weights[j] <= weights[chosen[kept - 1]]) {
                    continue;
                }
                kept--;
            }
            int slot = kept++;
            while (slot > 0 && weights[chosen[slot - 1]] < weights[j]) {
                chosen[slot] = chosen[slot - 1];
                slot--;
            }
            chosen[slot] = j;
        }
        for (int i = 0; i < kept; i++) {
            add((int) positions[chosen[i]], weights[chosen[i]]);
        }
    }

    int[] strongest(int count) {
        return byPosition.entrySet().stream()
                .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                .limit(count)
                .mapToInt(Map.Entry::getKey)
                .toArray();
    }
}
