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
 * {@link MemoryReservation} by an anonymous {@code mmap} of address space (JDK 22+: the foreign
 * function API). The memory is unmapped when the buffer over it becomes unreachable, as a direct
 * buffer's is freed.
 */
final class ReservedMemory implements MemoryReservation {
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
    private static final int PAGE;

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

    @Override
    public ByteBuffer reserve(int bytes) {
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

    @Override
    public long backed(long bytes) {
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
