package dev.jvmm.arm64.oracle;

import static dev.jvmm.arm64.oracle.HarnessDescriptor.BASE;

import dev.jvmm.arm64.oracle.EncodingClass.UnitGenerator;
import dev.jvmm.arm64.oracle.InstructionGenerator.Body;

import java.util.List;
import java.util.Random;

/**
 * Units that end a case with a synchronous exception, which QEMU user mode turns into the signal Linux sends and jvmm
 * takes to its vector ({@link JvmmEmulator#asSignal}): the state at the faulting instruction (no register written,
 * no writeback, no byte stored) and the fault's address must agree.
 *
 * <p>Left out because QEMU 7.2 user mode is not a faithful oracle there: SP alignment faults (it does not check
 * SCTLR_EL1.SA0), a misaligned store-exclusive with an open monitor (it fails the store without the alignment check
 * the Arm ARM's ExclusiveMonitorsPass makes first), and faults on tagged addresses (what si_addr holds differs
 * between kernels).
 */
record FaultClass(String name, UnitGenerator generator) {

    static final List<FaultClass> ALL = List.of(
            new FaultClass("Load/store to an unmapped address (translation fault, SIGSEGV)",
                    FaultClass::translationFault),
            new FaultClass("Misaligned exclusive or acquire/release (alignment fault, SIGBUS)",
                    FaultClass::alignmentFault),
            new FaultClass("Branch to a misaligned address (PC alignment fault, SIGBUS)", FaultClass::pcAlignment),
            new FaultClass("Branch to an unmapped address (instruction abort, SIGSEGV)", FaultClass::instructionAbort),
            new FaultClass("BRK (SIGTRAP)", FaultClass::breakpoint),
            new FaultClass("UDF (SIGILL)", FaultClass::undefined));

    void generate(InstructionGenerator g, Body b) {
        generator.generate(g, b, name);
    }

    /** An address that neither QEMU's process nor jvmm's identity map has: just below RAM, low, or kernel space. */
    static long unmapped(Random r, int align) {
        long a = switch (r.nextInt(3)) {
            case 0 -> BASE - 16L * (1 + r.nextInt(4096));
            case 1 -> 0x1_0000L + 16L * r.nextInt(4096);
            default -> 0xFFFF_FF80_0000_0000L + 16L * r.nextInt(1 << 20);
        };
        return a & -align;
    }

    private static void translationFault(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int size = r.nextInt(4);
        int rn = g.gpr();
        int rt = g.regExcept(rn);
        long address = unmapped(r, 1 << size);
        int word;
        long base;
        switch (r.nextInt(5)) {
            case 0 -> {                                           // LDR/STR (unsigned immediate), offset 0..7
                int imm = r.nextInt(8);
                base = address - ((long) imm << size);
                word = A64.loadStoreUnsignedImmediate(size, r.nextInt(2), imm, rn, rt);
            }
            case 1 -> {                                           // pre-indexed: no writeback on a fault
                int imm = r.nextInt(64) - 32;
                base = address - imm;
                word = A64.loadStoreImm9(size, r.nextInt(2), imm, A64.PRE_INDEXED, rn, rt);
            }
            case 2 -> {                                           // post-indexed
                base = address;
                word = A64.loadStoreImm9(size, r.nextInt(2), r.nextInt(64) - 32, A64.POST_INDEXED, rn, rt);
            }
            case 3 -> {                                           // LDP/STP (signed offset)
                int opc = r.nextBoolean() ? 0b10 : 0b00;
                int l = r.nextInt(2);
                int rt2 = l == 1 ? g.regExcept(rt, rn) : g.reg();
                base = unmapped(r, 16);
                address = base;
                word = A64.loadStorePair(opc, A64.PAIR_OFFSET, l, 0, rt2, rn, rt);
            }
            default -> {                                          // LDAR/STLR
                base = address;
                word = A64.loadStoreExclusive(size, 1, r.nextInt(2), 0, 31, 1, 31, rn, rt);
            }
        }
        g.setX(b, rn, base);
        b.add(word, name);
    }

    private static void alignmentFault(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int rn = g.gpr();
        int rt = g.regExcept(rn);
        int kind = r.nextInt(3);
        int size = kind == 2 ? 2 + r.nextInt(2) : 1 + r.nextInt(3);
        int bytes = kind == 2 ? 2 << size : 1 << size;
        long address = g.scratchAddress(bytes + 16, bytes) + 1 + r.nextInt(bytes - 1);
        g.setX(b, rn, address);
        b.add(switch (kind) {
            case 0 -> A64.loadStoreExclusive(size, 0, 1, 0, 31, r.nextInt(2), 31, rn, rt);            // LDXR
            case 1 -> A64.loadStoreExclusive(size, 1, r.nextInt(2), 0, 31, 1, 31, rn, rt);             // LDAR/STLR
            default -> A64.loadStoreExclusive(size, 0, 1, 1, 31, r.nextInt(2), g.regExcept(rt, rn), rn, rt); // LDXP
        }, name);
    }

    private static void pcAlignment(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int rn = g.gpr();
        b.addTo(A64.pcRelAddressing(0, 0, rn), InstructionGenerator.SETUP, InstructionGenerator.Fix.ADR,
                b.forwardTarget());
        b.setup(A64.addSubImmediate(1, 0, 0, 0, 1 + r.nextInt(3), rn, rn));
        b.add(A64.unconditionalBranchRegister(r.nextInt(3), rn), name);                 // BR, BLR, RET
    }

    private static void instructionAbort(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int rn = g.gpr();
        g.setX(b, rn, unmapped(r, 4));
        b.add(A64.unconditionalBranchRegister(r.nextInt(3), rn), name);
    }

    private static void breakpoint(InstructionGenerator g, Body b, String name) {
        int imm;
        do {
            imm = g.random().nextInt(1 << 16);
        } while (imm == JvmmEmulator.END_BREAKPOINT);
        b.add(A64.exceptionGeneration(0b001, imm, 0), name);
    }

    private static void undefined(InstructionGenerator g, Body b, String name) {
        b.add(g.random().nextInt(1 << 16), name);                                        // UDF #imm16
    }
}
