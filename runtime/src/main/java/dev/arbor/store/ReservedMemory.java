package dev.arbor.store;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * Anonymous memory reserved at its full size up front but backed by the operating system only where
 * it is written (an {@code mmap} of address space): an in-memory segment takes its whole capacity at
 * once, so its rows never move and each byte of them is touched once, when its row is written.
 *
 * <p>Why not a direct buffer that grows: a growing buffer is copied into a larger one, and every new
 * buffer is zeroed (touched) in full, so a segment filled to a million rows of dim 64 had touched 4.7
 * times its final bytes. On a virtual machine whose free memory is handed back to the host, touching
 * a fresh page costs about 20 µs (a 64 MiB {@code allocateDirect} took 250 ms here), and appending
 * a million rows of dim 64 to a {@link HeadStore} took 13 µs per row, more than a whole tree insert.
 * The memory is unmapped when the buffer over it becomes unreachable, as a direct buffer's is freed.
 */
final class ReservedMemory {
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 2;
    private static final boolean MAC = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("mac");
    /** MAP_ANONYMOUS | MAP_NORESERVE: no file behind it, and no swap set aside for pages never written. */
    private static final int MAP_ANONYMOUS_NORESERVE = MAC ? 0x1000 | 0x40 : 0x20 | 0x4000;
    private static final long MAP_FAILED = -1;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    /** Bytes the operating system backs at a time: what a written row costs at least. */
    static final int PAGE;

    static {
        Linker linker = Linker.nativeLinker();
        MMAP = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        MUNMAP = linker.downcallHandle(linker.defaultLookup().find("munmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        MethodHandle pageSize = linker.downcallHandle(linker.defaultLookup().find("getpagesize").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
        try {
            PAGE = (int) pageSize.invokeExact();
        } catch (Throwable e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private ReservedMemory() {}

    /** A zeroed direct buffer of {@code bytes} whose pages the operating system backs when they are first written. */
    static ByteBuffer reserve(int bytes) {
        MemorySegment address;
        try {
            address = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, (long) bytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS_NORESERVE, -1, 0L);
        } catch (Throwable e) {
            throw new IllegalStateException("mmap failed", e);
        }
        if (address.address() == MAP_FAILED) {
            throw new OutOfMemoryError("cannot reserve " + bytes + " bytes of address space for a KV segment");
        }
        long length = bytes;
        return address.reinterpret(length, Arena.ofAuto(), start -> unmap(start, length)).asByteBuffer();
    }

    /** Bytes the operating system backs once the first {@code bytes} of a reservation are written. */
    static long backed(long bytes) {
        return (bytes + PAGE - 1) / PAGE * PAGE;
    }

    private static void unmap(MemorySegment start, long length) {
        try {
            int result = (int) MUNMAP.invokeExact(start, length);
            assert result == 0 : "munmap failed";
        } catch (Throwable e) {
            throw new IllegalStateException("munmap failed", e);
        }
    }
}
