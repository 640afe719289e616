package dev.arbor.tree;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * Independent work per head dealt over P workers: P − 1 on an {@link Executor}, one on the calling
 * thread, each taking the next head nobody has taken until none is left, so a worker that starts late or
 * is slowed down (a busy core, a head whose query touches more of its tree) never leaves the others
 * waiting on heads dealt to it in advance. Work the caller need not wait for at once (a context's tree
 * inserts while its graphs run) is started beside it on the same executor ({@link #startBeside}). The
 * class starts no threads of its own; with parallelism 1 everything runs on the calling thread.
 */
public final class HeadWorkers {
    private static final HeadWorkers CALLING_THREAD = new HeadWorkers(null, 1);
    /**
     * How long the caller, out of heads, spins for the other workers' last heads before it blocks: about
     * two kv heads' searches at 64K keys. A blocked caller waits on top for the wake-up of its idle core,
     * tens of microseconds on a virtual machine, once per layer of every decode step; spinning took ~5 %
     * off a stories260K decode step at 1K and 64K keys (one-JVM probe, alternating blocks).
     */
    private static final long JOIN_SPIN_NANOS = 100_000;

    private final Executor executor;
    private final int parallelism;

    private HeadWorkers(Executor executor, int parallelism) {
        this.executor = executor;
        this.parallelism = parallelism;
    }

    /** Every head on the calling thread, one after another. */
    public static HeadWorkers callingThread() {
        return CALLING_THREAD;
    }

    /**
     * {@code parallelism} workers, all but one on {@code executor}, which should offer
     * {@code parallelism − 1} threads for them to run at once.
     */
    public static HeadWorkers on(Executor executor, int parallelism) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
        }
        if (parallelism > 1 && executor == null) {
            throw new IllegalArgumentException("parallelism " + parallelism + " needs an executor");
        }
        return parallelism == 1 ? CALLING_THREAD : new HeadWorkers(executor, parallelism);
    }

    /**
     * Runs {@code work} for every head in {@code [0, heads)} and returns once all have run, so what the
     * work wrote is visible to the caller. If any head fails, the first failure is thrown, after every
     * head that started has finished: nothing still runs on the heads' state when this returns or throws.
     * The caller waits only for heads a worker has taken: a worker still busy with other work (a context's
     * inserts, another call's heads) when the caller has run out of heads finds none left when it starts.
     */
    public void forEachHead(int heads, IntConsumer work) {
        Round round = new Round(heads, work);
        for (int w = 1; w < Math.min(parallelism, heads); w++) {
            executor.execute(round::takeHeads);
        }
        round.takeHeads();
        round.await();
    }

    /**
     * Starts {@code work} on a worker and returns at once, or with parallelism 1 runs it before returning.
     * Nothing may touch what the work writes until {@link #await} on the returned future has returned.
     */
    public CompletableFuture<Void> startBeside(Runnable work) {
        if (parallelism == 1) {
            work.run();
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.runAsync(work, executor);
    }

    /**
     * Waits for work {@link #startBeside} started; rethrows its failure. Call it on the thread that
     * started the work, never from a head's work: that work may be queued behind it on the same executor.
     */
    public static void await(CompletableFuture<Void> started) {
        try {
            started.join();
        } catch (CompletionException e) {
            rethrow(e.getCause());
        }
    }

    /** One call's heads: which is next, how many have finished, the first failure. */
    private static final class Round {
        private final int heads;
        private final IntConsumer work;
        private final AtomicInteger nextHead = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final CompletableFuture<Void> allFinished = new CompletableFuture<>();

        Round(int heads, IntConsumer work) {
            this.heads = heads;
            this.work = work;
            if (heads == 0) {
                allFinished.complete(null);
            }
        }

        void takeHeads() {
            for (int head = nextHead.getAndIncrement(); head < heads; head = nextHead.getAndIncrement()) {
                int done = 1;
                try {
                    work.accept(head);
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e);
                    // No worker takes another head; those nobody took count as finished.
                    done += Math.max(0, heads - nextHead.getAndSet(heads));
                }
                if (finished.addAndGet(done) == heads) {
                    allFinished.complete(null);
                }
            }
        }

        /** Spins briefly for the heads still running ({@link HeadWorkers#JOIN_SPIN_NANOS}), then blocks; rethrows a failure. */
        void await() {
            long deadline = System.nanoTime() + JOIN_SPIN_NANOS;
            while (!allFinished.isDone() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            allFinished.join();
            rethrow(failure.get());
        }
    }

    private static void rethrow(Throwable failure) {
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }
}
