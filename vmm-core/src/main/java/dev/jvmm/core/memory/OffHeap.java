package dev.jvmm.core.memory;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Zeroed off-heap memory that is freed the moment its owner says so ({@link #free()}), not when the garbage
 * collector gets round to it, using nothing but the JDK, on every JDK from 17 on.
 *
 * <h2>Lazily, where it can: a private mapping of an empty file</h2>
 * Guest RAM should cost what the guest touches, as QEMU's anonymous mapping does: a 4 GiB guest that boots in 50 MiB
 * should not zero, and fault in, 4 GiB first (on this project's virtual machines that alone took 0.5 s per 128 MiB).
 * The JDK has no anonymous mapping, so the memory is a {@link FileChannel.MapMode#PRIVATE} mapping of a sparse file
 * that is deleted at once: every page reads as zero until written, and a written page is the process's own copy
 * (copy on write), never written back, so the file stays empty and takes no disk space. The file lives in
 * {@code java.io.tmpdir}, unless that is a memory file system (tmpfs, ramfs): there a read of an untouched page
 * would take a page of that file system and could run it out of space, so the memory is allocated eagerly instead,
 * as it is when mapping fails or {@code -Djvmm.ram.lazy=false} asks for it.
 *
 * <h2>Eagerly, otherwise</h2>
 * <ul>
 *   <li>Java 22 and later: a memory segment of a shared {@code java.lang.foreign.Arena} (the Foreign Function and
 *       Memory API, final in Java 22 by JEP 454), viewed as a direct {@link ByteBuffer}; closing the arena frees it.
 *       The API is reached through method handles because the project compiles with {@code --release 17}.</li>
 *   <li>Java 17 to 21: {@link ByteBuffer#allocateDirect}, freed through its cleaner with
 *       {@code sun.misc.Unsafe.invokeCleaner}, the method the JDK keeps in {@code jdk.unsupported} for exactly this
 *       (JEP 260 lists {@code sun.misc.Unsafe} among the critical internal APIs that stay accessible).</li>
 * </ul>
 * A mapping is released the same two ways: {@code FileChannel.map} into the arena on Java 22 and later, the mapped
 * buffer's cleaner (which unmaps it) before.
 *
 * <p>Either way the memory is zero when allocated, and an access after {@link #free()} through a buffer obtained
 * earlier is the owner's bug: the owner ({@link GuestMemory}) guarantees that no thread can still reach the buffer.
 */
final class OffHeap {

    private static final Allocator ALLOCATOR = Allocator.select();
    /** Where lazily mapped memory's files are made (and deleted at once); null: allocate eagerly. */
    private static final Path LAZY_DIR = lazyDirectory();

    /** What frees the memory: the arena, or the buffer itself. */
    private final Object owner;
    /** {@code Arena.close()}, or {@code Unsafe.invokeCleaner(ByteBuffer)}: applied to {@link #owner}. */
    private final MethodHandle release;
    private ByteBuffer buffer;

    private OffHeap(ByteBuffer buffer, Object owner, MethodHandle release) {
        this.buffer = buffer;
        this.owner = owner;
        this.release = release;
    }

    /** The memory; null once freed. */
    synchronized ByteBuffer buffer() {
        return buffer;
    }

    /** Frees the memory now. Idempotent. */
    synchronized void free() {
        if (buffer == null) {
            return;
        }
        buffer = null;
        try {
            release.invoke(owner);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code bytes} of zeroed memory aligned to a page: mapped lazily where it can be, else allocated now. */
    static OffHeap allocate(int bytes) {
        if (LAZY_DIR != null) {
            try {
                return mapLazily(bytes);
            } catch (IOException | RuntimeException e) {
                // No room for the file, no mapping on this platform: eager memory works everywhere.
            }
        }
        return ALLOCATOR.allocate(bytes);
    }

    /** Whether {@link #allocate} maps memory lazily in this JVM. */
    static boolean lazy() {
        return LAZY_DIR != null;
    }

    private static OffHeap mapLazily(int bytes) throws IOException {
        Path file = Files.createTempFile(LAZY_DIR, "jvmm-ram-", ".tmp");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // Mapping past the end extends the file: a hole of the requested size, which reads as zero.
            return ALLOCATOR.map(ch, bytes);
        } finally {
            try {
                Files.deleteIfExists(file);   // the mapping stays valid without a name
            } catch (IOException e) {
                file.toFile().deleteOnExit(); // a system that cannot delete a mapped file (Windows): later, then
            }
        }
    }

    private static Path lazyDirectory() {
        if (!Boolean.parseBoolean(System.getProperty("jvmm.ram.lazy", "true"))) {
            return null;
        }
        try {
            Path dir = Path.of(System.getProperty("java.io.tmpdir"));
            String type = Files.getFileStore(dir).type().toLowerCase(Locale.ROOT);
            return type.contains("tmpfs") || type.contains("ramfs") || type.contains("hugetlbfs") ? null : dir;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Which of the two ways this JVM uses to free memory, for diagnostics: {@code arena} or {@code cleaner}. */
    static String mechanism() {
        return ALLOCATOR.name();
    }

    private interface Allocator {
        OffHeap allocate(int bytes);

        /** A private mapping of {@code bytes} of {@code ch} from offset 0. */
        OffHeap map(FileChannel ch, int bytes) throws IOException;

        String name();

        static Allocator select() {
            if (Runtime.version().feature() >= 22) {
                try {
                    return new ArenaAllocator();
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new ExceptionInInitializerError("java.lang.foreign is not usable on Java "
                            + Runtime.version() + ": " + e);
                }
            }
            try {
                return new CleanerAllocator();
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new ExceptionInInitializerError("sun.misc.Unsafe.invokeCleaner is not usable on Java "
                        + Runtime.version() + ": " + e);
            }
        }
    }

    /** Java 22+: {@code Arena.ofShared()}, {@code arena.allocate(bytes, 4096).asByteBuffer()}, {@code arena.close()}. */
    private static final class ArenaAllocator implements Allocator {
        private static final long ALIGNMENT = 4096;

        private final MethodHandle ofShared;
        private final MethodHandle allocate;
        private final MethodHandle asByteBuffer;
        private final MethodHandle close;
        private final MethodHandle map;

        ArenaAllocator() throws ReflectiveOperationException {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            Class<?> arena = Class.forName("java.lang.foreign.Arena");
            Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
            ofShared = lookup.findStatic(arena, "ofShared", MethodType.methodType(arena));
            // Arena.allocate(long, long) is a SegmentAllocator default method; find it through the interface.
            Class<?> allocator = Class.forName("java.lang.foreign.SegmentAllocator");
            allocate = lookup.findVirtual(allocator, "allocate", MethodType.methodType(segment, long.class, long.class));
            asByteBuffer = lookup.findVirtual(segment, "asByteBuffer", MethodType.methodType(ByteBuffer.class));
            close = lookup.findVirtual(arena, "close", MethodType.methodType(void.class))
                    .asType(MethodType.methodType(void.class, Object.class));
            map = lookup.findVirtual(FileChannel.class, "map", MethodType.methodType(segment,
                    FileChannel.MapMode.class, long.class, long.class, arena));
        }

        @Override
        public OffHeap map(FileChannel ch, int bytes) throws IOException {
            return inNewArena(arena -> map.invoke(ch, FileChannel.MapMode.PRIVATE, 0L, (long) bytes, arena));
        }

        @Override
        public OffHeap allocate(int bytes) {
            try {
                return inNewArena(arena -> allocate.invoke(arena, (long) bytes, ALIGNMENT));
            } catch (IOException e) {
                throw new IllegalStateException(e);   // allocating memory does no I/O
            }
        }

        /** What makes the memory segment in a new arena. */
        private interface SegmentMaker {
            Object make(Object arena) throws Throwable;
        }

        /** A new shared arena holding the segment {@code maker} makes in it, as a buffer; closed again on failure. */
        private OffHeap inNewArena(SegmentMaker maker) throws IOException {
            Object arena;
            try {
                arena = ofShared.invoke();
            } catch (Throwable t) {
                throw rethrow(t);
            }
            try {
                return new OffHeap((ByteBuffer) asByteBuffer.invoke(maker.make(arena)), arena, close);
            } catch (Throwable t) {
                try {
                    close.invoke(arena);
                } catch (Throwable ignored) {
                    // the allocation failure is the error to report
                }
                if (t instanceof IOException) {
                    throw (IOException) t;
                }
                throw rethrow(t);
            }
        }

        @Override
        public String name() {
            return "arena";
        }
    }

    /** Java 17..21: a direct buffer, freed by {@code Unsafe.invokeCleaner}. */
    private static final class CleanerAllocator implements Allocator {
        private final MethodHandle invokeCleaner;

        CleanerAllocator() throws ReflectiveOperationException {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field f = unsafeClass.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            Object unsafe = f.get(null);
            invokeCleaner = MethodHandles.publicLookup()
                    .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
                    .bindTo(unsafe)
                    .asType(MethodType.methodType(void.class, Object.class));
        }

        @Override
        public OffHeap allocate(int bytes) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(bytes);
            return new OffHeap(buffer, buffer, invokeCleaner);
        }

        @Override
        public OffHeap map(FileChannel ch, int bytes) throws IOException {
            // A mapped buffer's cleaner unmaps it.
            ByteBuffer buffer = ch.map(FileChannel.MapMode.PRIVATE, 0, bytes);
            return new OffHeap(buffer, buffer, invokeCleaner);
        }

        @Override
        public String name() {
            return "cleaner";
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException) {
            return (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        return new IllegalStateException(t);
    }
}
