package dev.arbor.decoder;

import java.util.HashMap;
import java.util.Map;

/** Attention weight per context position, summed over heads and layers, to report the most attended. */
final class AttentionWeights {
    private final Map<Integer, Double> byPosition = new HashMap<>();

    void add(int position, double weight) {
        byPosition.merge(position, weight, Double::sum);
    }

    int[] strongest(int count) {
        return byPosition.entrySet().stream()
                .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                .limit(count)
                .mapToInt(Map.Entry::getKey)
                .toArray();
    }
}
