package dev.jvmm.net;

import dev.jvmm.core.memory.GuestMemory;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Copies between guest RAM and Netty {@link ByteBuf}s without allocating: the adapter that keeps Netty out of
 * vmm-core. {@link GuestMemory} speaks byte arrays and {@link ByteBuffer}s; this class picks, per buffer, the copy
 * that needs no temporary object.
 *
 * <pre>
 *  heap buffer                    ── its array ──────────────────────────────▶ GuestMemory.write(gpa, byte[], ...)
 *  one NIO component (direct)     ── internalNioBuffer (the buffer's own reusable view) ─▶ write(gpa, ByteBuffer, ...)
 *  a slice of such a buffer       ── unwrapped to its parent at the same bytes, then as above
 *  anything else (composite)      ── GuestMemory.view (this thread's reusable view of the chunk) ─▶ getBytes/setBytes
 * </pre>
 *
 * Neither index of the buffer moves. Every range is checked against guest RAM before the first byte is copied.
 */
public final class GuestByteBufs {
    private GuestByteBufs() {
    }

    /** Copies {@code length} bytes of {@code src} from {@code srcIndex} into guest RAM at {@code gpa}. */
    public static void writeFrom(GuestMemory memory, ByteBuf src, int srcIndex, long gpa, int length) {
        memory.checkRange(gpa, length);
        if (length > 0) {
            Objects.checkFromIndexSize(srcIndex, length, src.capacity());
        }
        // A derived buffer (a slice, an adaptive allocator's buffer) copies through a fresh NIO view on some JDKs;
        // the buffer it derives from holds the same bytes at a known distance, and copies without one.
        if (src.hasMemoryAddress()) {
            for (ByteBuf parent = src.unwrap(); parent != null && parent.hasMemoryAddress(); parent = src.unwrap()) {
                long delta = src.memoryAddress() - parent.memoryAddress();
                if (delta < 0 || delta + srcIndex + (long) length > parent.capacity()) {
                    break;
                }
                srcIndex += (int) delta;
                src = parent;
            }
        }
        if (src.hasArray()) {
            memory.write(gpa, src.array(), src.arrayOffset() + srcIndex, length);
        } else if (src.nioBufferCount() == 1) {
            // internalNioBuffer is the buffer's own reusable view (made once per buffer): no duplicate per copy,
            // unlike getBytes(int, ByteBuffer) on JDKs where Netty does not use Unsafe.
            ByteBuffer s = src.internalNioBuffer(srcIndex, length);
            memory.write(gpa, s, s.position(), length);
        } else {
            throughViews(memory, gpa, src, srcIndex, length, true);
        }
    }

    /**
     * Copies {@code length} bytes of guest RAM at {@code gpa} into {@code dst} at {@code dstIndex}; the buffer's
     * capacity must already hold the range.
     */
    public static void readInto(GuestMemory memory, long gpa, ByteBuf dst, int dstIndex, int length) {
        memory.checkRange(gpa, length);
        if (length > 0) {
            Objects.checkFromIndexSize(dstIndex, length, dst.capacity());
        }
        if (dst.hasArray()) {
            memory.read(gpa, dst.array(), dst.arrayOffset() + dstIndex, length);
        } else if (dst.hasMemoryAddress() || dst.nioBufferCount() != 1) {
            // setBytes from a direct ByteBuffer copies memory to memory (Unsafe where Netty has it).
            throughViews(memory, gpa, dst, dstIndex, length, false);
        } else {
            ByteBuffer d = dst.internalNioBuffer(dstIndex, length);
            memory.read(gpa, d, d.position(), length);
        }
    }

    /**
     * Copies between {@code buf} and guest RAM through this thread's views of RAM, one per chunk the range crosses:
     * into guest RAM ({@code toGuest}) with {@code getBytes}, out of it with {@code setBytes}.
     */
    private static void throughViews(GuestMemory memory, long gpa, ByteBuf buf, int index, int length,
                                     boolean toGuest) {
        long addr = gpa;
        int done = 0;
        while (done < length) {
            ByteBuffer view = memory.view(addr, length - done);
            int n = view.remaining();
            if (toGuest) {
                buf.getBytes(index + done, view);
            } else {
                buf.setBytes(index + done, view);
            }
            done += n;
            addr += n;
        }
    }
}
