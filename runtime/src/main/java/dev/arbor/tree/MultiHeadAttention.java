package dev.arbor.tree;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One token's tree attention over several heads: query {@code h} attends over tree {@code h}. Heads
 * are independent, so they can run side by side: given an {@link Executor} and a parallelism P, P
 * workers (P − 1 on the executor, one on the calling thread) each take the next head not yet taken
 * until none is left, so a worker that starts late or is slowed down (a busy core, a head whose
 * query touches more of its tree) never leaves the others waiting on heads dealt to it in advance.
 * Without an executor every head runs on the calling thread. The class starts no threads of its own.
 *
 * <p>Like {@link AttentionTree#attend}, it may run concurrently with searches and attention calls,
 * never with an append to one of its trees.
 */
public final class MultiHeadAttention {
    private final List<AttentionTree> trees;
    private final Executor executor;
    private final int parallelism;

    private MultiHeadAttention(Builder builder) {
        this.trees = List.copyOf(builder.trees);
        this.executor = builder.executor;
        this.parallelism = Math.min(builder.parallelism, trees.size());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code queries[h]} attends over tree {@code h}; returns the heads' results in the same order. */
    public AttentionResult[] attend(float[][] queries, float scale, SearchParams params) {
        if (queries == null || queries.length != trees.size()) {
            throw new IllegalArgumentException("expected one query per head (" + trees.size() + "), got "
                    + (queries == null ? "null" : queries.length));
        }
        AttentionResult[] results = new AttentionResult[trees.size()];
        AtomicInteger nextHead = new AtomicInteger();
        CompletableFuture<?>[] others = new CompletableFuture<?>[parallelism - 1];
        for (int worker = 1; worker < parallelism; worker++) {
            others[worker - 1] = CompletableFuture.runAsync(
                    () -> attendHeads(nextHead, queries, scale, params, results), executor);
        }
        attendHeads(nextHead, queries, scale, params, results);
        try {
            CompletableFuture.allOf(others).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
        return results;
    }

    public int heads() {
        return trees.size();
    }

    /** Attends the next head nobody has taken, until every head is taken. */
    private void attendHeads(AtomicInteger nextHead, float[][] queries, float scale, SearchParams params,
            AttentionResult[] results) {
        for (int head = nextHead.getAndIncrement(); head < trees.size(); head = nextHead.getAndIncrement()) {
            results[head] = trees.get(head).attend(queries[head], scale, params);
        }
    }

    public static final class Builder {
        private List<AttentionTree> trees;
        private Executor executor;
        private int parallelism = 1;

        private Builder() {}

        /** The heads' trees, head 0 first; at least one. */
        public Builder trees(List<AttentionTree> trees) {
            this.trees = trees;
            return this;
        }

        /**
         * Runs the heads on {@code parallelism} workers, all but one on {@code executor} (which should
         * offer {@code parallelism − 1} threads for the workers to run at once).
         */
        public Builder executor(Executor executor, int parallelism) {
            this.executor = executor;
            this.parallelism = parallelism;
            return this;
        }

        public MultiHeadAttention build() {
            if (trees == null || trees.isEmpty()) {
                throw new IllegalArgumentException("multi-head attention needs at least one head's tree");
            }
            if (parallelism < 1) {
                throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
            }
            if (parallelism > 1 && executor == null) {
                throw new IllegalArgumentException("parallelism " + parallelism + " needs an executor");
            }
            int keyDim = trees.get(0).keyDim();
            for (AttentionTree tree : trees) {
                if (tree.keyDim() != keyDim) {
                    throw new IllegalArgumentException(
                            "every head's tree must share one key dimension, got " + keyDim + " and " + tree.keyDim());
                }
            }
            return new MultiHeadAttention(this);
        }
    }
}
