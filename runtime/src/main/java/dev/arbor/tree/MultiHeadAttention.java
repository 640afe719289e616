package dev.arbor.tree;

import java.util.List;
import java.util.concurrent.Executor;

/**
 * One token's tree attention over several heads: query {@code h} attends over tree {@code h}. Heads
 * are independent, so they can run side by side, dealt over the {@link HeadWorkers} of an
 * {@link Executor} and a parallelism; without an executor every head runs on the calling thread.
 *
 * <p>Like {@link AttentionTree#attend}, it may run concurrently with searches and attention calls,
 * never with an append to one of its trees.
 */
public final class MultiHeadAttention {
    private final List<AttentionTree> trees;
    private final HeadWorkers workers;

    private MultiHeadAttention(Builder builder) {
        this.trees = List.copyOf(builder.trees);
        this.workers = HeadWorkers.on(builder.executor, builder.parallelism);
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
        workers.forEachHead(trees.size(), head -> results[head] = trees.get(head).attend(queries[head], scale, params));
        return results;
    }

    public int heads() {
        return trees.size();
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
