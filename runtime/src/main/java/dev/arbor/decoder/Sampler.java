package dev.arbor.decoder;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy (argmax) when the temperature is 0, otherwise a draw from the
 * softmax at that temperature restricted to the smallest set of tokens whose probability reaches
 * {@code topP} (nucleus sampling). Seeded, so a request with the same seed gets the same tokens.
 */
public final class Sampler {
    private final float temperature;
    private final float topP;
    private final SplittableRandom random;

    public Sampler(float temperature, float topP, long seed) {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        this.temperature = temperature;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    public static Sampler greedy() {
        return new Sampler(0, 1, 0);
    }

    public int next(float[] logits) {
        if (temperature == 0) {
            return argmax(logits);
        }
        double[] probabilities = softmax(logits, temperature);
        Integer[] order = new Integer[logits.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> Double.compare(probabilities[b], probabilities[a]));
        double kept = 0;
        int nucleus = 0;
        while (nucleus < order.length && (nucleus == 0 || kept < topP)) {
            kept += probabilities[order[nucleus++]];
        }
        double draw = random.nextDouble() * kept;
        for (int i = 0; i < nucleus; i++) {
            draw -= probabilities[order[i]];
            if (draw <= 0) {
                return order[i];
            }
        }
        return order[nucleus - 1];
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    static double[] softmax(float[] logits, float temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
