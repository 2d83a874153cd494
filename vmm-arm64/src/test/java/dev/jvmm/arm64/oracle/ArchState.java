package dev.jvmm.arm64.oracle;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The architectural state the differential test compares: X0..X30, SP, NZCV (bits 31:28 as MRS NZCV reads them) and
 * the scratch memory; and, for the CPU under test, what went wrong instead of reaching the end of the case (an
 * exception the CPU took, a Java exception out of it), null when it ran to the end. Arrays are owned by the instance;
 * callers do not modify them.
 */
record ArchState(long[] x, long sp, int nzcv, byte[] scratch, String fault) {

    ArchState(long[] x, long sp, int nzcv, byte[] scratch) {
        this(x, sp, nzcv, scratch, null);
    }

    ArchState {
        if (x.length != 31 || scratch.length != HarnessDescriptor.SCRATCH_SIZE) {
            throw new IllegalArgumentException("31 X registers and the whole scratch area");
        }
    }

    /** The differences from {@code other}, one line per register or memory run, in the guest's words. */
    List<String> differences(ArchState other, String thisName, String otherName) {
        List<String> d = new ArrayList<>();
        if (fault != null || other.fault != null) {
            d.add("did not reach the end: " + thisName + " " + (fault == null ? "ran to the end" : fault) + ", "
                    + otherName + " " + (other.fault == null ? "ran to the end" : other.fault));
        }
        for (int i = 0; i < 31; i++) {
            if (x[i] != other.x[i]) {
                d.add(String.format("x%d: %s %016x, %s %016x", i, thisName, x[i], otherName, other.x[i]));
            }
        }
        if (sp != other.sp) {
            d.add(String.format("sp: %s %016x, %s %016x", thisName, sp, otherName, other.sp));
        }
        if (nzcv != other.nzcv) {
            d.add(String.format("nzcv: %s %s, %s %s", thisName, flags(nzcv), otherName, flags(other.nzcv)));
        }
        for (int i = 0; i < scratch.length; i++) {
            if (scratch[i] != other.scratch[i]) {
                int end = i;
                while (end < scratch.length && scratch[end] != other.scratch[end]) {
                    end++;
                }
                HexFormat h = HexFormat.of();
                d.add(String.format("scratch[%d..%d) at %x: %s %s, %s %s", i, end, HarnessDescriptor.SCRATCH + i,
                        thisName, h.formatHex(scratch, i, end), otherName, h.formatHex(other.scratch, i, end)));
                i = end;
            }
        }
        return d;
    }

    boolean sameAs(ArchState o) {
        return sp == o.sp && nzcv == o.nzcv && Arrays.equals(x, o.x) && Arrays.equals(scratch, o.scratch)
                && java.util.Objects.equals(fault, o.fault);
    }

    /** NZCV as the four letters, upper case for a set flag ("nZCv"). */
    static String flags(int nzcv) {
        return "" + ((nzcv & 1 << 31) != 0 ? 'N' : 'n') + ((nzcv & 1 << 30) != 0 ? 'Z' : 'z')
                + ((nzcv & 1 << 29) != 0 ? 'C' : 'c') + ((nzcv & 1 << 28) != 0 ? 'V' : 'v');
    }
}
