package dev.jvmm.arm64.oracle;

/**
 * The code of one case: a body of instructions under test, framed so that both runners start and stop it alike.
 *
 * <pre>
 *  offset 0    x30's initial value (8 bytes, the image is 8-aligned)
 *  offset 8    LDR X30, #-8        entry: every register but x30 is loaded by the runner, x30 from here
 *  offset 12   CLREX               the local exclusive monitor starts open on both sides
 *  offset 16   B body              ends the entry block, so the body starts a block of its own (a translator that
 *                                  leaves a block at CLREX would otherwise interpret the whole first block)
 *  offset 20   body[0] ... body[n-1]
 *  offset 20+4n B end_of_case      the end: QEMU's epilogue, or where jvmm stops
 * </pre>
 *
 * Branches in the body only go forward, to an instruction boundary of the body or to the end, so every case ends.
 *
 * @param body    the instructions under test; PC-relative ones refer only to the snippet itself
 * @param classes per body instruction, the encoding class it exercises (the Arm ARM's group name)
 */
record Snippet(int[] body, String[] classes) {

    static final int ENTRY_OFFSET = 8;
    static final int BODY_OFFSET = 20;
    /** The x30 literal, in words from the first body instruction (for LDR (literal)). */
    static final int LITERAL_FROM_BODY = -BODY_OFFSET / 4;

    Snippet {
        if (body.length != classes.length) {
            throw new IllegalArgumentException("one class per instruction");
        }
    }

    int entryOffset() {
        return ENTRY_OFFSET;
    }

    int endOffset() {
        return BODY_OFFSET + 4 * body.length;
    }

    /** Bytes the image occupies, rounded up to keep the next image 8-aligned. */
    int imageSize() {
        return (endOffset() + 4 + 7) & ~7;
    }

    /** The image at {@code address}, whose last instruction branches to {@code endTarget}, as little-endian words. */
    int[] image(long address, long x30, long endTarget) {
        int[] w = new int[imageSize() / 4];
        w[0] = (int) x30;
        w[1] = (int) (x30 >>> 32);
        w[2] = A64.loadLiteral(0b01, -2, 30);
        w[3] = A64.barrier(0b1111, 0b010);
        w[4] = A64.unconditionalBranchImmediate(0, 1);
        System.arraycopy(body, 0, w, 5, body.length);
        long endPc = address + endOffset();
        long delta = (endTarget - endPc) >> 2;
        if (delta != (int) delta || delta < -(1 << 25) || delta >= (1 << 25)) {
            throw new IllegalArgumentException("end target out of B's range");
        }
        w[5 + body.length] = A64.unconditionalBranchImmediate(0, (int) delta);
        return w;
    }

    /** The first {@code k} body instructions; each later one becomes a branch to the end. */
    Snippet prefix(int k) {
        int[] b = body.clone();
        String[] c = classes.clone();
        for (int i = k; i < b.length; i++) {
            b[i] = A64.unconditionalBranchImmediate(0, b.length - i);
            c[i] = "(cut)";
        }
        return new Snippet(b, c);
    }
}
