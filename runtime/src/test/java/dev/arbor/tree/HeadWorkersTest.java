package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class HeadWorkersTest {
    @Test
    void everyHeadRunsExactlyOnceWhateverTheHeadsAndWorkers() {
        ExecutorService executor = Executors.newFixedThreadPool(2);
        try {
            for (int parallelism = 1; parallelism <= 3; parallelism++) {
                HeadWorkers workers = HeadWorkers.on(executor, parallelism);
                // Fewer heads than workers, as many, and many more.
                for (int heads : new int[] {1, 3, 17}) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(heads);
                    workers.forEachHead(heads, runs::incrementAndGet);
                    for (int h = 0; h < heads; h++) {
                        assertEquals(1, runs.get(h), "head " + h + " of " + heads + " with " + parallelism + " workers");
                    }
                }
            }
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void aFailingHeadIsThrownOnlyAfterEveryStartedHeadHasFinished() {
        ExecutorService executor = Executors.newFixedThreadPool(1);
        try {
            HeadWorkers workers = HeadWorkers.on(executor, 2);
            AtomicInteger started = new AtomicInteger();
            AtomicInteger finished = new AtomicInteger();
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> workers.forEachHead(8, head -> {
                if (head == 1) {
                    throw new IllegalStateException("head 1 failed");
                }
                started.incrementAndGet();
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                finished.incrementAndGet();
            }));
            assertEquals("head 1 failed", thrown.getMessage());
            assertEquals(started.get(), finished.get(), "a head still ran when the failure was thrown");
            assertTrue(started.get() < 7, "the workers stop taking heads after a failure, ran " + started.get());
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void theCallerDoesNotWaitForAWorkerBusyElsewhere() {
        ExecutorService executor = Executors.newFixedThreadPool(1);
        CountDownLatch release = new CountDownLatch(1);
        try {
            executor.execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            // Before, the caller waited for its task queued behind the busy one: this never returned.
            int onCaller = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                Thread caller = Thread.currentThread();
                AtomicInteger heads = new AtomicInteger();
                HeadWorkers.on(executor, 2).forEachHead(4, head -> {
                    if (Thread.currentThread() == caller) {
                        heads.incrementAndGet();
                    }
                });
                return heads.get();
            });
            assertEquals(4, onCaller, "the only free worker, the caller, ran every head");
        } finally {
            release.countDown();
            executor.shutdownNow();
        }
    }

    @Test
    void workStartedBesideRunsOnAWorkerAndIsSeenOnceAwaited() {
        ExecutorService executor = Executors.newFixedThreadPool(1);
        try {
            Thread caller = Thread.currentThread();
            int[] written = new int[1];
            Thread[] ranOn = new Thread[1];
            CompletableFuture<Void> started = HeadWorkers.on(executor, 2).startBeside(() -> {
                ranOn[0] = Thread.currentThread();
                written[0] = 42;
            });
            HeadWorkers.await(started);
            assertEquals(42, written[0]);
            assertTrue(ranOn[0] != caller, "ran on the calling thread");
            HeadWorkers.callingThread().startBeside(() -> ranOn[0] = Thread.currentThread());
            assertSame(caller, ranOn[0], "parallelism 1 runs the work before returning, on the calling thread");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> HeadWorkers.await(
                    HeadWorkers.on(executor, 2).startBeside(() -> {
                        throw new IllegalStateException("insert failed");
                    })));
            assertEquals("insert failed", thrown.getMessage());
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void parallelismBelowOneOrWithoutAnExecutorIsRejected() {
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> HeadWorkers.on(null, 0));
        assertTrue(zero.getMessage().contains("at least 1, got 0"), zero.getMessage());
        IllegalArgumentException noExecutor = assertThrows(IllegalArgumentException.class, () -> HeadWorkers.on(null, 2));
        assertTrue(noExecutor.getMessage().contains("needs an executor"), noExecutor.getMessage());
        assertSame(HeadWorkers.callingThread(), HeadWorkers.on(null, 1));
    }
}
