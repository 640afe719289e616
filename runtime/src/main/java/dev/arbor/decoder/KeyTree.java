package dev.arbor.decoder;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The attention tree over one key/value head of one layer. Keys arrive in position order into leaf
 * blocks of {@value #BLOCK} positions; a full block is sealed into a summary (centre, radius, value
 * mean, count), and every {@value #FANOUT} sealed summaries of a level are summarised one level up.
 * Appending is O(1) amortised.
 *
 * <p>A search walks best-first by the upper bound {@code q·centre + |q|·radius} on any key's score in
 * a node, opening leaf blocks until the k-th best exact score beats every bound left or the leaf budget
 * is spent. What it did not open stays in the answer as coarse summaries, so the attention mass of
 * pruned subtrees is still represented.
 */
final class KeyTree {
    static final int BLOCK = 32;
    static final int FANOUT = 16;

    private final int headSize;
    private final int stride;
    private final int offset;
    private final List<List<Node>> levels = new ArrayList<>();
    private int size;

    /** A sealed subtree covering positions {@code [start, end)}. */
    record Node(int level, int index, int start, int end, float[] centre, float radius, float[] valueMean) {
        int count() {
            return end - start;
        }
    }

    /** What one query retrieves: exact positions and coarse summaries of the rest. */
    record Retrieval(int[] positions, int positionCount, List<Node> summaries) {}

    KeyTree(int headSize, int kvHeads, int head) {
        this.headSize = headSize;
        this.stride = headSize * kvHeads;
        this.offset = head * headSize;
        levels.add(new ArrayList<>());
    }

    /** Records that the store now holds {@code newSize} positions, sealing every block that filled. */
    void grow(int newSize, FloatBuffer keys, FloatBuffer values) {
        while ((size / BLOCK + 1) * BLOCK <= newSize) {
            int start = (size / BLOCK) * BLOCK;
            seal(leaf(start, keys, values));
            size = start + BLOCK;
        }
        size = newSize;
    }

    private void seal(Node node) {
        List<Node> level = levels.get(node.level());
        level.add(node);
        if (level.size() % FANOUT == 0) {
            if (levels.size() == node.level() + 1) {
                levels.add(new ArrayList<>());
            }
            seal(parent(node.level() + 1, level.subList(level.size() - FANOUT, level.size())));
        }
    }

    private Node leaf(int start, FloatBuffer keys, FloatBuffer values) {
        float[] centre = new float[headSize];
        float[] valueMean = new float[headSize];
        for (int p = start; p < start + BLOCK; p++) {
            for (int i = 0; i < headSize; i++) {
                centre[i] += keys.get(p * stride + offset + i) / BLOCK;
                valueMean[i] += values.get(p * stride + offset + i) / BLOCK;
            }
        }
        float radius = 0;
        for (int p = start; p < start + BLOCK; p++) {
            float d = 0;
            for (int i = 0; i < headSize; i++) {
                float diff = keys.get(p * stride + offset + i) - centre[i];
                d += diff * diff;
            }
            radius = Math.max(radius, (float) Math.sqrt(d));
        }
        return new Node(0, levels.get(0).size(), start, start + BLOCK, centre, radius, valueMean);
    }

    private Node parent(int level, List<Node> children) {
        float[] centre = new float[headSize];
        float[] valueMean = new float[headSize];
        for (Node child : children) {
            for (int i = 0; i < headSize; i++) {
                centre[i] += child.centre()[i] / children.size();
                valueMean[i] += child.valueMean()[i] / children.size();
            }
        }
        float radius = 0;
        for (Node child : children) {
            float d = 0;
            for (int i = 0; i < headSize; i++) {
                float diff = child.centre()[i] - centre[i];
                d += diff * diff;
            }
            radius = Math.max(radius, (float) Math.sqrt(d) + child.radius());
        }
        int index = levels.size() > level ? levels.get(level).size() : 0;
        return new Node(level, index, children.get(0).start(), children.get(children.size() - 1).end(), centre,
                radius, valueMean);
    }

    /**
     * Retrieves for query {@code q} (one head, {@code headSize} floats) over positions {@code [0, size)}:
     * the sinks and the window exactly, the top-k of the rest through the tree, and summaries of what
     * the search left closed.
     */
    Retrieval search(float[] q, int qOffset, FloatBuffer keys, TreeAttentionSettings settings) {
        int sinkEnd = Math.min(settings.sinks(), size);
        // Positions after the last sealed block belong to no node, so the exact window always covers them.
        int windowStart = Math.max(sinkEnd, Math.min(size - settings.window(), size / BLOCK * BLOCK));
        int[] exact = new int[Math.min(size, sinkEnd + (size - windowStart) + (int) Math.min((long) settings.topK(), size))];
        int count = 0;
        for (int p = 0; p < sinkEnd; p++) {
            exact[count++] = p;
        }
        for (int p = windowStart; p < size; p++) {
            exact[count++] = p;
        }
        Frontier frontier = new Frontier();
        TopK best = new TopK(settings.topK());
        float norm = norm(q, qOffset);
        for (Node root : roots()) {
            cover(root, sinkEnd, windowStart, q, qOffset, norm, keys, frontier, best);
        }
        int opened = 0;
        while (!frontier.isEmpty() && opened < settings.maxLeaves()
                && !(best.isFull() && best.minScore() >= frontier.peekBound())) {
            Node node = frontier.poll();
            if (node.level() == 0) {
                scoreKeys(node.start(), node.end(), q, qOffset, keys, best);
                opened++;
            } else {
                for (Node child : children(node)) {
                    frontier.add(child, bound(child, q, qOffset, norm));
                }
            }
        }
        count = best.drainInto(exact, count);
        return new Retrieval(exact, count, List.copyOf(frontier.remaining()));
    }

    /** Adds the sealed nodes inside {@code [from, to)} to the frontier; keys of partly covered leaves are scored. */
    private void cover(Node node, int from, int to, float[] q, int qOffset, float norm, FloatBuffer keys,
            Frontier frontier, TopK best) {
        if (node.end() <= from || node.start() >= to) {
            return;
        }
        if (node.start() >= from && node.end() <= to) {
            frontier.add(node, bound(node, q, qOffset, norm));
        } else if (node.level() == 0) {
            scoreKeys(Math.max(from, node.start()), Math.min(to, node.end()), q, qOffset, keys, best);
        } else {
            for (Node child : children(node)) {
                cover(child, from, to, q, qOffset, norm, keys, frontier, best);
            }
        }
    }

    /** The highest complete node over each stretch of positions, plus exact scoring of the unsealed tail. */
    private List<Node> roots() {
        List<Node> roots = new ArrayList<>();
        for (int level = levels.size() - 1; level >= 0; level--) {
            List<Node> nodes = levels.get(level);
            int coveredAbove = level + 1 < levels.size() ? levels.get(level + 1).size() * FANOUT : 0;
            roots.addAll(nodes.subList(coveredAbove, nodes.size()));
        }
        return roots;
    }

    private List<Node> children(Node node) {
        return levels.get(node.level() - 1).subList(node.index() * FANOUT, (node.index() + 1) * FANOUT);
    }

    private void scoreKeys(int from, int to, float[] q, int qOffset, FloatBuffer keys, TopK best) {
        for (int p = from; p < to; p++) {
            float s = 0;
            for (int i = 0; i < headSize; i++) {
                s += q[qOffset + i] * keys.get(p * stride + offset + i);
            }
            best.offer(p, s);
        }
    }

    private float bound(Node node, float[] q, int qOffset, float norm) {
        float s = 0;
        for (int i = 0; i < headSize; i++) {
            s += q[qOffset + i] * node.centre()[i];
        }
        return s + norm * node.radius();
    }

    private float norm(float[] q, int qOffset) {
        float s = 0;
        for (int i = 0; i < headSize; i++) {
            s += q[qOffset + i] * q[qOffset + i];
        }
        return (float) Math.sqrt(s);
    }

    /** A max-heap of nodes by bound, on parallel arrays to keep the search free of boxing. */
    private static final class Frontier {
        private Node[] nodes = new Node[64];
        private float[] bounds = new float[64];
        private int size;

        void add(Node node, float bound) {
            if (size == nodes.length) {
                nodes = java.util.Arrays.copyOf(nodes, size * 2);
                bounds = java.util.Arrays.copyOf(bounds, size * 2);
            }
            int i = size++;
            while (i > 0 && bounds[(i - 1) / 2] < bound) {
                nodes[i] = nodes[(i - 1) / 2];
                bounds[i] = bounds[(i - 1) / 2];
                i = (i - 1) / 2;
            }
            nodes[i] = node;
            bounds[i] = bound;
        }

        boolean isEmpty() {
            return size == 0;
        }

        float peekBound() {
            return bounds[0];
        }

        Node poll() {
            Node top = nodes[0];
            Node last = nodes[--size];
            float lastBound = bounds[size];
            nodes[size] = null;
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && bounds[child + 1] > bounds[child]) {
                    child++;
                }
                if (bounds[child] <= lastBound) {
                    break;
                }
                nodes[i] = nodes[child];
                bounds[i] = bounds[child];
                i = child;
            }
            if (size > 0) {
                nodes[i] = last;
                bounds[i] = lastBound;
            }
            return top;
        }

        List<Node> remaining() {
            return java.util.Arrays.asList(nodes).subList(0, size);
        }
    }

    /** The k best (position, score) pairs seen: a min-heap on score over parallel arrays. */
    private static final class TopK {
        private final int k;
        private int[] positions = new int[64];
        private float[] scores = new float[64];
        private int size;

        TopK(int k) {
            this.k = k;
        }

        void offer(int position, float score) {
            if (size < k) {
                if (size == positions.length) {
                    positions = java.util.Arrays.copyOf(positions, size * 2);
                    scores = java.util.Arrays.copyOf(scores, size * 2);
                }
                int i = size++;
                while (i > 0 && scores[(i - 1) / 2] > score) {
                    positions[i] = positions[(i - 1) / 2];
                    scores[i] = scores[(i - 1) / 2];
                    i = (i - 1) / 2;
                }
                positions[i] = position;
                scores[i] = score;
            } else if (k > 0 && score > scores[0]) {
                siftDownFromRoot(position, score);
            }
        }

        private void siftDownFromRoot(int position, float score) {
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && scores[child + 1] < scores[child]) {
                    child++;
                }
                if (scores[child] >= score) {
                    break;
                }
                positions[i] = positions[child];
                scores[i] = scores[child];
                i = child;
            }
            positions[i] = position;
            scores[i] = score;
        }

        boolean isFull() {
            return size >= k;
        }

        float minScore() {
            return size == 0 ? Float.NEGATIVE_INFINITY : scores[0];
        }

        int drainInto(int[] out, int from) {
            System.arraycopy(positions, 0, out, from, size);
            return from + size;
        }
    }
}
