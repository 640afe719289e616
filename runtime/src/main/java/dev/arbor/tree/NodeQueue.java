package dev.arbor.tree;

import java.util.Arrays;

/** A max-heap of nodes by upper bound: the frontier of branch-and-bound search. */
final class NodeQueue {
    private float[] bounds = new float[64];
    private int[] nodes = new int[64];
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    float topBound() {
        return bounds[0];
    }

    void push(int node, float bound) {
        if (size == nodes.length) {
            bounds = Arrays.copyOf(bounds, size * 2);
            nodes = Arrays.copyOf(nodes, size * 2);
        }
        int i = size++;
        while (i > 0 && bounds[(i - 1) / 2] < bound) {
            bounds[i] = bounds[(i - 1) / 2];
            nodes[i] = nodes[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        bounds[i] = bound;
        nodes[i] = node;
    }

    int pop() {
        int top = nodes[0];
        size--;
        float bound = bounds[size];
        int node = nodes[size];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && bounds[child + 1] > bounds[child]) {
                child++;
            }
            if (bounds[child] <= bound) {
                break;
            }
            bounds[i] = bounds[child];
            nodes[i] = nodes[child];
            i = child;
        }
        bounds[i] = bound;
        nodes[i] = node;
        return top;
    }

    /** Removes and returns every node left, in no particular order. */
    int[] drain() {
        int[] rest = Arrays.copyOf(nodes, size);
        size = 0;
        return rest;
    }
}
