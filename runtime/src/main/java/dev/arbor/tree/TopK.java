package dev.arbor.tree;

/**
 * The k best (score, position) pairs seen so far, in a min-heap whose root is the worst kept pair.
 * Order: higher score first; among equal scores the lower position wins, so results are
 * deterministic and equal to a brute-force sort under the same rule.
 */
final class TopK {
    private final int k;
    private final float[] scores;
    private final int[] positions;
    private int size;

    TopK(int k) {
        this.k = k;
        this.scores = new float[k];
        this.positions = new int[k];
    }

    boolean isFull() {
        return size == k;
    }

    /** The score a new pair must reach to be kept; -infinity until full. */
    float threshold() {
        return isFull() ? scores[0] : Float.NEGATIVE_INFINITY;
    }

    void offer(float score, int position) {
        if (size < k) {
            scores[size] = score;
            positions[size] = position;
            siftUp(size++);
        } else if (better(score, position, scores[0], positions[0])) {
            scores[0] = score;
            positions[0] = position;
            siftDown(0);
        }
    }

    int size() {
        return size;
    }

    /** Positions, best first. Empties the heap. */
    int[] drainPositions(float[] scoresOut) {
        int n = size;
        int[] out = new int[n];
        for (int i = n - 1; i >= 0; i--) {
            out[i] = positions[0];
            scoresOut[i] = scores[0];
            size--;
            scores[0] = scores[size];
            positions[0] = positions[size];
            siftDown(0);
        }
        return out;
    }

    static boolean better(float score, int position, float otherScore, int otherPosition) {
        return score > otherScore || (score == otherScore && position < otherPosition);
    }

    private void siftUp(int i) {
        while (i > 0) {
            int up = (i - 1) / 2;
            if (!better(scores[up], positions[up], scores[i], positions[i])) {
                return;
            }
            swap(i, up);
            i = up;
        }
    }

    private void siftDown(int i) {
        while (true) {
            int worst = i;
            int left = 2 * i + 1;
            int right = left + 1;
            if (left < size && better(scores[worst], positions[worst], scores[left], positions[left])) {
                worst = left;
            }
            if (right < size && better(scores[worst], positions[worst], scores[right], positions[right])) {
                worst = right;
            }
            if (worst == i) {
                return;
            }
            swap(i, worst);
            i = worst;
        }
    }

    private void swap(int i, int j) {
        float s = scores[i];
        scores[i] = scores[j];
        scores[j] = s;
        int p = positions[i];
        positions[i] = positions[j];
        positions[j] = p;
    }
}
