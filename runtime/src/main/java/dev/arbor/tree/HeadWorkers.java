package dev.arbor.tree;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Independent work per head dealt over P workers: P − 1 on an {@link Executor}, one on the calling
 * thread, each taking the next head nobody has taken until none is left, so a worker that starts late or
 * is slowed down (a busy core, a head whose query touches more of its tree) never leaves the others
 * waiting on heads dealt to it in advance. The class starts no threads of its own; with parallelism 1
 * every head runs on the calling thread.
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
     * worker has stopped: nothing still runs on the heads' state when this returns or throws.
     */
    public void forEachHead(int heads, IntConsumer work) {
        AtomicInteger nextHead = new AtomicInteger();
        Runnable worker = () -> {
            try {
                for (int head = nextHead.getAndIncrement(); head < heads; head = nextHead.getAndIncrement()) {
                    work.accept(head);
                }
            } catch (RuntimeException | Error e) {
                // The other workers stop after the head they hold.
                nextHead.set(heads);
                throw e;
            }
        };
        CompletableFuture<?>[] others = new CompletableFuture<?>[Math.max(0, Math.min(parallelism, heads) - 1)];
        for (int w = 0; w < others.length; w++) {
            others[w] = CompletableFuture.runAsync(worker, executor);
        }
        Throwable failure = null;
        try {
            worker.run();
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        awaitBriefly(others);
        try {
            CompletableFuture.allOf(others).join();
        } catch (CompletionException e) {
            if (failure == null) {
                failure = e.getCause();
            }
        }
        rethrow(failure);
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

    private static void awaitBriefly(CompletableFuture<?>[] others) {
        long deadline = System.nanoTime() + JOIN_SPIN_NANOS;
        for (CompletableFuture<?> other : others) {
            while (!other.isDone() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
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
