package dev.arbor.store;

import java.nio.ByteBuffer;

/**
 * Memory for an in-memory {@link Segment} reserved at the segment's full size as address space and
 * backed by the operating system only where it is written, so its rows never move and each byte is
 * touched once, when its row is written.
 *
 * <p>Why it matters: without it a segment grows a direct buffer by copies into ever larger zeroed
 * ones, touching 4.7 times its final bytes by the time it is full; on a virtual machine whose free
 * memory is handed back to the host, touching a fresh page costs about 20 µs (a 64 MiB
 * {@code allocateDirect} took 250 ms here), and appending a million rows of dim 64 to a
 * {@link HeadStore} took 10-14 µs per row that way against 1.6-2.6 µs reserved.
 *
 * <p>Reserving needs {@code mmap}, which Java reaches through the foreign function API, final from
 * JDK 22; Arbor runs on JDK 21 too, so the implementation is compiled only by a JDK 22+ build (from
 * {@code src/main/java22}) and looked up at run time; on JDK 21 segments grow by copies.
 */
interface MemoryReservation {
    /** The reservation this JDK and build offer, or null where segments must grow by copies. */
    MemoryReservation AVAILABLE = lookUp();

    /**
     * A zeroed direct buffer of {@code bytes} whose pages are backed when first written; the first
     * {@link SegmentHeader#BYTES} hold a segment's header and rows follow.
     */
    ByteBuffer reserve(int bytes);

    /** Bytes backed once the first {@code written} bytes of a reservation of {@code reserved} are written. */
    long backed(long written, long reserved);

    private static MemoryReservation lookUp() {
        try {
            return (MemoryReservation) Class.forName("dev.arbor.store.ReservedMemory").getDeclaredConstructor()
                    .newInstance();
        } catch (ClassNotFoundException | LinkageError e) {
            // Built on JDK 21 (no class), run on JDK 21 (a class file it cannot read), or a platform
            // without mmap (the class fails to initialise): grow by copies.
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot set up reserved segment memory", e);
        }
    }
}
