package dev.arbor.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@link MemoryReservation} by an anonymous {@code mmap} of address space (JDK 22+: the foreign
 * function API), in transparent huge pages past a segment's first {@value #SMALL_MIB} MiB of rows where
 * Linux offers them. The memory is unmapped when the buffer over it becomes unreachable, as a direct
 * buffer's is freed.
 *
 * <p>Why huge pages: every page the kernel backs costs a fault, and on this virtual machine a fault
 * is dear. First touch of a reserved MiB (256 MiB, 3 rounds each): 4.4-4.8 ms in 4 KB pages; in 2 MB
 * pages 3.1-3.7 ms where the host still has to back the memory and 0.1-0.2 ms where it was freed
 * moments before. Appending 262,144 MiniLM rows (dim 384) to a tree spent 18-22 µs per row in the
 * store that way, 9-10 µs in huge pages.
 *
 * <p>Why not from the first row: a huge page is backed whole, so the last one a growing segment writes
 * holds up to 2 MB it does not use yet. Past {@value #SMALL_MIB} MiB that is at most an eighth more
 * than the rows, falling as the segment fills (a full one has none, see {@link #backed}), and a short
 * context, below it in every segment, costs no more than in small pages. Rows start on a huge page
 * boundary, just past the segment's header, so a power-of-two number of rows fills whole pages.
 */
final class ReservedMemory implements MemoryReservation {
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 2;
    private static final int MADV_HUGEPAGE = 14;
    private static final int MADV_NOHUGEPAGE = 15;
    private static final boolean MAC = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("mac");
    /** MAP_ANONYMOUS | MAP_NORESERVE: no file behind it, and no swap set aside for pages never written. */
    private static final int MAP_ANONYMOUS_NORESERVE = MAC ? 0x1000 | 0x40 : 0x20 | 0x4000;
    private static final long MAP_FAILED = -1;
    private static final Path HUGE_PAGE_MODE = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
    private static final Path HUGE_PAGE_SIZE = Path.of("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
    /** The rows of a segment that stay in small pages (see the class documentation). */
    private static final int SMALL_MIB = 16;
    private static final long SMALL_BYTES = (long) SMALL_MIB << 20;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MADVISE;
    /** Bytes the operating system backs at a time outside huge pages: what a written row costs at least. */
    private static final int PAGE;
    /** Bytes of a transparent huge page, or 0 where the kernel gives none to memory that asks for them. */
    private static final long HUGE_PAGE;
    /** Whether the kernel puts all anonymous memory in huge pages unless told otherwise. */
    private static final boolean HUGE_ALWAYS;

    static {
        Linker linker = Linker.nativeLinker();
        MMAP = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        MUNMAP = linker.downcallHandle(linker.defaultLookup().find("munmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        MADVISE = linker.downcallHandle(linker.defaultLookup().find("madvise").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT));
        MethodHandle pageSize = linker.downcallHandle(linker.defaultLookup().find("getpagesize").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
        try {
            PAGE = (int) pageSize.invokeExact();
        } catch (Throwable e) {
            throw new ExceptionInInitializerError(e);
        }
        String mode = MAC ? "" : readQuietly(HUGE_PAGE_MODE);
        HUGE_ALWAYS = mode.contains("[always]");
        HUGE_PAGE = HUGE_ALWAYS || mode.contains("[madvise]") ? Long.parseLong(readQuietly(HUGE_PAGE_SIZE).strip()) : 0;
    }

    @Override
    public ByteBuffer reserve(int bytes) {
        // Room to move the rows' start to a huge page boundary.
        long span = bytes + HUGE_PAGE;
        MemorySegment base;
        try {
            base = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, span, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS_NORESERVE, -1, 0L);
        } catch (Throwable e) {
            throw new IllegalStateException("mmap failed", e);
        }
        if (base.address() == MAP_FAILED) {
            throw new OutOfMemoryError("cannot reserve " + bytes + " bytes of address space for a KV segment");
        }
        long start = base.address();
        if (HUGE_PAGE != 0) {
            long rows = roundUp(start + SegmentHeader.BYTES, HUGE_PAGE);
            start = rows - SegmentHeader.BYTES;
            long small = Math.min(SMALL_BYTES, bytes - SegmentHeader.BYTES);
            if (HUGE_ALWAYS) {
                advise(rows - PAGE, PAGE + small, MADV_NOHUGEPAGE);
            }
            if (rows + small < start + bytes) {
                advise(rows + small, start + bytes - rows - small, MADV_HUGEPAGE);
            }
        }
        MemorySegment whole = base.reinterpret(span, Arena.ofAuto(), address -> unmap(address, span));
        return whole.asSlice(start - base.address(), bytes).asByteBuffer();
    }

    /**
     * Whole pages: small ones up to {@value #SMALL_MIB} MiB of rows and past the last whole huge page of
     * the reservation, huge ones between (an upper bound: where the kernel finds no free huge page it
     * backs small ones). Without huge pages the reservation starts on a page, with them its header
     * has a small page of its own.
     */
    @Override
    public long backed(long written, long reserved) {
        if (HUGE_PAGE == 0) {
            return roundUp(written, PAGE);
        }
        long rows = written - SegmentHeader.BYTES;
        long wholeHugePages = (reserved - SegmentHeader.BYTES) / HUGE_PAGE * HUGE_PAGE;
        boolean inHugePages = rows > SMALL_BYTES && rows < wholeHugePages;
        return PAGE + roundUp(rows, inHugePages ? HUGE_PAGE : PAGE);
    }

    private static long roundUp(long bytes, long unit) {
        return (bytes + unit - 1) / unit * unit;
    }

    /** Advice only: a kernel that cannot follow it leaves small pages, which {@link #backed} over-counts. */
    private static void advise(long address, long length, int advice) {
        try {
            int ignored = (int) MADVISE.invokeExact(MemorySegment.ofAddress(address), length, advice);
        } catch (Throwable e) {
            throw new IllegalStateException("madvise failed", e);
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
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
