package dev.jvmm.arm64;

import dev.jvmm.core.memory.GuestMemory;

import org.jctools.maps.NonBlockingHashMapLong;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Decoded code, per guest physical page (4 KiB), shared by all vCPUs of a machine: each word is decoded once, and
 * each block built once, whoever executes it.
 *
 * <h2>Invalidation</h2>
 * A page's decoded code is dropped (a) when a vCPU stores to a word of the page that was decoded (the store's slow
 * path: a vCPU never keeps a fast write translation for a page that has decoded code, see
 * {@link Mmu#dropWriteTags}), and (b) by IC IVAU, IC IALLU and IC IALLUIS. A store by another vCPU through a fast
 * write translation it filled before the page was first decoded is not seen; the architecture requires such
 * cross-modifying code to be followed by IC invalidation and an ISB on the executing PE (Arm ARM B2.4.4 "Concurrent
 * modification and execution of instructions"), and that invalidation is honoured.
 *
 * <p>Each drop bumps {@link #generation} and raises every vCPU's attention flag: a vCPU's jump cache (virtual address
 * to block) is emptied at its next block boundary, so no vCPU enters a dropped block from then on.
 *
 * <h2>Threads</h2>
 * Pages are found in a concurrent map keyed by the primitive page number (JCTools' {@code NonBlockingHashMapLong}:
 * a lookup on a jump-cache miss or a store's slow path boxes nothing, so executing code allocates nothing); inside a page, words and blocks are filled racily by whichever vCPU gets there
 * first. That is safe because {@link Insn} and {@link Block} are immutable with final fields (JLS 17.5: safely
 * published through a data race) and two vCPUs that decode the same word make equal objects.
 */
final class CodeCache {
    static final int PAGE_SHIFT = 12;
    static final int WORDS = 1 << (PAGE_SHIFT - 2);

    /** One physical page's decoded words and blocks, by word offset. */
    static final class Page {
        final long ppn;
        final Insn[] words = new Insn[WORDS];
        final Block[] blocks = new Block[WORDS];

        Page(long ppn) {
            this.ppn = ppn;
        }
    }

    private final GuestMemory memory;
    private final NonBlockingHashMapLong<Page> pages = new NonBlockingHashMapLong<>();
    private final AtomicLong generation = new AtomicLong();
    /** Decoding (here) and translation ({@link Arm64Cpu}) work begun and finished: see Arm64System#codeWorkStarted. */
    final AtomicLong workStarted = new AtomicLong();
    final AtomicLong workFinished = new AtomicLong();
    /** Blocks built so far (plain and racy: statistics only). */
    long blocksDecoded;
    /** Tells every vCPU that code was dropped (they empty their jump caches at their next block boundary). */
    private final Runnable onInvalidate;

    CodeCache(GuestMemory memory, Runnable onInvalidate) {
        this.memory = memory;
        this.onInvalidate = onInvalidate;
    }

    long generation() {
        return generation.get();
    }

    /** Whether the page holding {@code pa} has decoded code. */
    boolean hasCode(long pa) {
        return pages.containsKey(pa >>> PAGE_SHIFT);
    }

    /**
     * The block at physical address {@code pa} (word aligned, in RAM), decoding what is missing. {@code onNewPage}
     * runs when the page was new, so the caller can drop its fast write translations to it.
     */
    Block block(long pa, Runnable onNewPage) {
        Page page = pages.get(pa >>> PAGE_SHIFT);
        Block b = page == null ? null : page.blocks[(int) (pa >>> 2) & (WORDS - 1)];
        if (b != null) {
            return b;
        }
        workStarted.incrementAndGet();
        try {
            return decodeBlock(page, pa, onNewPage);
        } finally {
            workFinished.incrementAndGet();
        }
    }

    private Block decodeBlock(Page page, long pa, Runnable onNewPage) {
        if (page == null) {
            long ppn = pa >>> PAGE_SHIFT;
            Page fresh = new Page(ppn);
            Page raced = pages.putIfAbsent(ppn, fresh);
            page = raced != null ? raced : fresh;
            onNewPage.run();
        }
        int w = (int) (pa >>> 2) & (WORDS - 1);
        Block b = page.blocks[w];
        if (b != null) {
            return b;
        }
        int n = 0;
        Insn[] buf = new Insn[Math.min(Block.MAX_LENGTH, WORDS - w)];
        while (n < buf.length) {
            Insn insn = page.words[w + n];
            if (insn == null) {
                insn = Decoder.decode(memory.read32(pa + 4L * n));
                page.words[w + n] = insn;
            }
            buf[n++] = insn;
            if (insn.endsBlock()) {
                break;
            }
        }
        Insn[] insns = n == buf.length ? buf : java.util.Arrays.copyOf(buf, n);
        b = new Block(pa, insns);
        page.blocks[w] = b;
        blocksDecoded++;
        return b;
    }

    /** A store of {@code size} bytes at {@code pa}: drops the page's code when the store overlaps a decoded word. */
    void onStore(long pa, int size) {
        Page page = pages.get(pa >>> PAGE_SHIFT);
        if (page == null) {
            return;
        }
        int first = (int) (pa >>> 2) & (WORDS - 1);
        int last = Math.min(WORDS - 1, first + ((int) (pa & 3) + size - 1) / 4);
        for (int w = first; w <= last; w++) {
            if (page.words[w] != null) {
                invalidatePage(pa);
                return;
            }
        }
    }

    /** IC IVAU: drops the page of {@code pa}. */
    void invalidatePage(long pa) {
        if (pages.remove(pa >>> PAGE_SHIFT) != null) {
            generation.incrementAndGet();
            onInvalidate.run();
        }
    }

    /** IC IALLU, IC IALLUIS, and reset: drops everything. */
    void invalidateAll() {
        pages.clear();
        generation.incrementAndGet();
        onInvalidate.run();
    }
}
