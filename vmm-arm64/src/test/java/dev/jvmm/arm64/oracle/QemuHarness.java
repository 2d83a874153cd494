package dev.jvmm.arm64.oracle;

import static dev.jvmm.arm64.oracle.HarnessDescriptor.*;

import dev.jvmm.core.testing.HostTools;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The oracle: runs cases on {@code qemu-aarch64 -cpu cortex-a57} (QEMU's user-mode emulator, EL0 of a Linux
 * process) and returns the state each case ends in.
 *
 * <p>All cases of a call go into one static ELF that this class writes (no compiler needed), so one QEMU process
 * runs thousands of them. Its driver, for each case: copies the case's scratch image into the scratch area, loads
 * SP, NZCV and X0..X29 from the case's input entry, branches to the case's code (whose first instruction loads X30
 * from a literal, see {@link Snippet}); the case's last instruction branches to the epilogue, which parks X0 in
 * TPIDR_EL0 (the only free place), stores X0..X30, SP, NZCV and the scratch area into the case's output record.
 * Every {@code batch} cases, and at the end, the driver writes the finished records to standard output with
 * {@code write(1, ...)} and exits with {@code exit(0)} after the last (Linux AArch64 syscall numbers 64 and 93).
 */
final class QemuHarness implements Emulator {
    /** The emulator, from {@code -Djvmm.qemu.aarch64} or the PATH. */
    static final String QEMU = System.getProperty("jvmm.qemu.aarch64", "qemu-aarch64");
    /** What QEMU emulates: a Cortex-A57 has the v8.0 base ISA with CRC32 and no LSE atomics, like jvmm's CPU. */
    static final String QEMU_CPU = "cortex-a57";

    private static final int SYS_WRITE = 64;
    private static final int SYS_EXIT = 93;
    private static final int SYS_SIGALTSTACK = 132;
    private static final int SYS_RT_SIGACTION = 134;
    /** The signals a case may raise: SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV. */
    static final int[] CAUGHT = {4, 5, 7, 8, 11};
    private static final long SA_SIGINFO = 4;
    private static final long SA_ONSTACK = 0x0800_0000L;
    private static final long SA_NODEFER = 0x4000_0000L;
    /** Offset of uc_mcontext.pc in the AArch64 Linux ucontext (uc_mcontext at 176: fault_address, regs, sp, pc). */
    private static final int UC_PC = 176 + 8 + 31 * 8 + 8;
    /** Offset of si_addr in siginfo_t. */
    private static final int SI_ADDR = 16;
    private static final int EQ = 0, NE = 1, HS = 2, LO = 3, LE = 13;

    private final int batch;

    QemuHarness(int batch) {
        this.batch = batch;
    }

    QemuHarness() {
        this(128);
    }

    /** Whether {@code qemu-aarch64} runs here; when not, the caller skips its test. */
    static boolean available() {
        return HostTools.installed(QEMU);
    }

    @Override
    public String name() {
        return "qemu";
    }

    /** The end state of every case, in order. */
    @Override
    public List<ArchState> run(List<TestCase> cases) throws IOException, InterruptedException {
        Program program = build(cases);
        Path dir = Files.createTempDirectory("jvmm-oracle");
        Path elf = dir.resolve("cases.elf");
        Path out = dir.resolve("out.bin");
        Path err = dir.resolve("err.txt");
        try {
            Files.write(elf, program.image);
            if (!elf.toFile().setExecutable(true)) {
                throw new IOException("cannot make " + elf + " executable (QEMU's loader requires it)");
            }
            Process p = new ProcessBuilder(QEMU, "-cpu", QEMU_CPU, elf.toString())
                    .redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("qemu-aarch64 did not finish " + cases.size() + " cases in 5 minutes");
            }
            byte[] bytes = Files.readAllBytes(out);
            int done = bytes.length / RECORD_SIZE;
            if (p.exitValue() != 0 || done != cases.size()) {
                throw new QemuDied(done, p.exitValue(), Files.readString(err).strip());
            }
            return parse(bytes, cases.size());
        } finally {
            Files.deleteIfExists(elf);
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            Files.deleteIfExists(dir);
        }
    }

    /** QEMU ended before finishing: {@code finished} cases had been written (a multiple of the batch). */
    static final class QemuDied extends IllegalStateException {
        final int finished;

        QemuDied(int finished, int exit, String stderr) {
            super("qemu-aarch64 exited with " + exit + " after " + finished + " cases: " + stderr);
            this.finished = finished;
        }
    }

    /** The ELF and where each case's code went. */
    record Program(byte[] image, long[] codeAddress) {
    }

    /** Addresses of each case's code image when laid out back to back from {@link HarnessDescriptor#CODE}. */
    static long[] layout(List<TestCase> cases) {
        long[] at = new long[cases.size()];
        long a = CODE;
        for (int i = 0; i < at.length; i++) {
            at[i] = a;
            a += cases.get(i).snippet().imageSize();
        }
        return at;
    }

    /** Where every case's last instruction branches to: the driver's epilogue (the same for any batch size). */
    static long epilogueAddress() {
        CodeBuffer driver = new CodeBuffer(BASE + 0x80);
        new QemuHarness().emitDriver(driver);
        driver.words();
        return driver.address("epilogue");
    }

    Program build(List<TestCase> cases) {
        CodeBuffer driver = new CodeBuffer(BASE + 0x80);
        emitDriver(driver);
        int[] driverWords = driver.words();
        long epilogue = driver.address("epilogue");
        long entry = driver.address("start");
        long handler = driver.address("handler");

        long[] at = layout(cases);
        long codeEnd = cases.isEmpty() ? CODE : at[at.length - 1] + cases.get(cases.size() - 1).snippet().imageSize();
        long table = (codeEnd + 15) & ~15L;
        long output = table + (long) ENTRY_SIZE * cases.size();
        long fileSize = output - BASE;
        long memSize = fileSize + (long) RECORD_SIZE * cases.size();
        if (memSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("too many cases for one image");
        }
        byte[] image = new byte[(int) fileSize];
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        ElfImage.writeHeaders(image, BASE, entry, memSize);
        for (int i = 0; i < driverWords.length; i++) {
            b.putInt(0x80 + 4 * i, driverWords[i]);
        }
        int g = (int) (GLOBALS - BASE);
        b.putLong(g + G_CASE, 0).putLong(g + G_COUNT, cases.size()).putLong(g + G_ENTRY, table)
                .putLong(g + G_CURSOR, output).putLong(g + G_BATCH_START, output).putLong(g + G_BATCH_FILL, 0);
        b.putLong(g + G_SIGACTION, handler).putLong(g + G_SIGACTION + 8, SA_SIGINFO | SA_ONSTACK | SA_NODEFER)
                .putLong(g + G_SIGACTION + 16, 0).putLong(g + G_SIGACTION + 24, 0);
        b.putLong(g + G_STACK_T, ALT_STACK).putLong(g + G_STACK_T + 8, 0).putLong(g + G_STACK_T + 16, ALT_STACK_SIZE);
        for (int i = 0; i < at.length; i++) {
            TestCase c = cases.get(i);
            ArchState s = c.initial();
            int[] w = c.snippet().image(at[i], s.x()[30], epilogue);
            int off = (int) (at[i] - BASE);
            for (int k = 0; k < w.length; k++) {
                b.putInt(off + 4 * k, w[k]);
            }
            int e = (int) (table - BASE) + i * ENTRY_SIZE;
            for (int r = 0; r < 31; r++) {
                b.putLong(e + E_X0 + 8 * r, s.x()[r]);
            }
            b.putLong(e + E_SP, s.sp()).putLong(e + E_NZCV, s.nzcv() & 0xF000_0000L)
                    .putLong(e + E_CODE, at[i] + c.snippet().entryOffset());
            b.put(e + E_SCRATCH, s.scratch());
        }
        return new Program(image, at);
    }

    private void emitDriver(CodeBuffer a) {
        final int sf = 1;
        // Once: an alternate signal stack, and the handler for every signal a case may raise.
        a.label("start");
        a.adr(0, GLOBALS + G_STACK_T);
        a.emit(A64.moveWide(sf, 0b10, 0, 0, 1));
        a.emit(A64.moveWide(sf, 0b10, 0, SYS_SIGALTSTACK, 8));
        a.emit(A64.exceptionGeneration(0, 0, 0b01));
        for (int sig : CAUGHT) {
            a.emit(A64.moveWide(sf, 0b10, 0, sig, 0));
            a.adr(1, GLOBALS + G_SIGACTION);
            a.emit(A64.moveWide(sf, 0b10, 0, 0, 2));
            a.emit(A64.moveWide(sf, 0b10, 0, 8, 3));                                  // sizeof(sigset_t)
            a.emit(A64.moveWide(sf, 0b10, 0, SYS_RT_SIGACTION, 8));
            a.emit(A64.exceptionGeneration(0, 0, 0b01));
        }
        a.label("next");
        a.adr(0, GLOBALS);
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_CASE / 8, 0, 1));
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_COUNT / 8, 0, 2));
        a.emit(A64.addSubShiftedRegister(sf, 1, 1, 0, 2, 0, 1, A64.R31));          // cmp x1, x2
        a.emitTo("finish", d -> A64.conditionalBranch(d, HS));
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_ENTRY / 8, 0, 3));           // x3 = entry
        a.adr(4, SCRATCH);
        a.emit(A64.addSubImmediate(sf, 0, 0, 0, E_SCRATCH, 3, 5));
        a.emit(A64.moveWide(sf, 0b10, 0, SCRATCH_SIZE / 16, 6));
        a.label("copyIn");
        a.emit(A64.loadStorePair(0b10, A64.PAIR_POST_INDEXED, 1, 2, 8, 5, 7));      // ldp x7, x8, [x5], #16
        a.emit(A64.loadStorePair(0b10, A64.PAIR_POST_INDEXED, 0, 2, 8, 4, 7));      // stp x7, x8, [x4], #16
        a.emit(A64.addSubImmediate(sf, 1, 1, 0, 1, 6, 6));
        a.emitTo("copyIn", d -> A64.conditionalBranch(d, NE));
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, E_SP / 8, 3, 1));
        a.emit(A64.addSubImmediate(sf, 0, 0, 0, 0, 1, A64.R31));                    // mov sp, x1
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, E_NZCV / 8, 3, 1));
        a.emit(A64.nzcv(A64.MSR, 1));
        a.emit(A64.logicalShiftedRegister(sf, 0b01, 0, 0, 3, 0, A64.R31, 30));      // mov x30, x3
        for (int r = 0; r < 30; r += 2) {
            a.emit(A64.loadStorePair(0b10, A64.PAIR_OFFSET, 1, r, r + 1, 30, r));   // ldp xr, xr+1, [x30, #8r]
        }
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, E_CODE / 8, 30, 30));
        a.emit(A64.unconditionalBranchRegister(0b0000, 30));                          // br x30

        a.label("epilogue");
        a.emit(A64.tpidrEl0(A64.MSR, 0));
        a.adr(0, GLOBALS);
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_CURSOR / 8, 0, 0));
        for (int r = 1; r < 31; r += 2) {
            a.emit(A64.loadStorePair(0b10, A64.PAIR_OFFSET, 0, r, r + 1, 0, r));    // stp xr, xr+1, [x0, #8r]
        }
        a.emit(A64.tpidrEl0(A64.MRS, 1));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, R_X0, 0, 1));
        a.emit(A64.addSubImmediate(sf, 0, 0, 0, 0, A64.R31, 1));                    // mov x1, sp
        a.emit(A64.nzcv(A64.MRS, 2));
        a.emit(A64.loadStorePair(0b10, A64.PAIR_OFFSET, 0, R_SP / 8, 2, 0, 1));
        a.adr(4, GLOBALS);                                                            // the signal, if any
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_SIGNAL / 8, 4, 1));
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_SIGPC / 8, 4, 2));
        a.emit(A64.loadStorePair(0b10, A64.PAIR_OFFSET, 0, R_SIGNAL / 8, 2, 0, 1));
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_SIGADDR / 8, 4, 1));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, R_SIGADDR / 8, 0, 1));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, G_SIGNAL / 8, 4, A64.R31));
        a.adr(4, SCRATCH);
        a.emit(A64.addSubImmediate(sf, 0, 0, 0, R_SCRATCH, 0, 5));
        a.emit(A64.moveWide(sf, 0b10, 0, SCRATCH_SIZE / 16, 6));
        a.label("copyOut");
        a.emit(A64.loadStorePair(0b10, A64.PAIR_POST_INDEXED, 1, 2, 8, 4, 7));
        a.emit(A64.loadStorePair(0b10, A64.PAIR_POST_INDEXED, 0, 2, 8, 5, 7));
        a.emit(A64.addSubImmediate(sf, 1, 1, 0, 1, 6, 6));
        a.emitTo("copyOut", d -> A64.conditionalBranch(d, NE));
        a.adr(0, GLOBALS);
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_CASE / 8, 0, 1));
        a.emit(A64.addSubImmediate(sf, 0, 0, 0, 1, 1, 1));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, G_CASE / 8, 0, 1));
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_ENTRY / 8, 0, 3));
        a.emit(A64.moveWide(sf, 0b10, 0, ENTRY_SIZE, 9));
        a.emit(A64.addSubShiftedRegister(sf, 0, 0, 0, 9, 0, 3, 3));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, G_ENTRY / 8, 0, 3));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, G_CURSOR / 8, 0, 5));
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_BATCH_FILL / 8, 0, 9));
        a.emit(A64.addSubImmediate(sf, 0, 0, 0, 1, 9, 9));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, G_BATCH_FILL / 8, 0, 9));
        a.emit(A64.addSubImmediate(sf, 1, 1, 0, batch, 9, A64.R31));               // cmp x9, #batch
        a.emitTo("next", d -> A64.conditionalBranch(d, LO));
        a.emitTo("flush", d -> A64.unconditionalBranchImmediate(1, d));
        a.emitTo("next", d -> A64.unconditionalBranchImmediate(0, d));

        a.label("finish");
        a.emitTo("flush", d -> A64.unconditionalBranchImmediate(1, d));
        a.emit(A64.moveWide(sf, 0b10, 0, 0, 0));
        a.emit(A64.moveWide(sf, 0b10, 0, SYS_EXIT, 8));
        a.emit(A64.exceptionGeneration(0, 0, 0b01));

        a.label("flush");                                                             // write [batch start, cursor)
        a.adr(10, GLOBALS);
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_BATCH_START / 8, 10, 1));
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_CURSOR / 8, 10, 2));
        a.emit(A64.addSubShiftedRegister(sf, 1, 0, 0, 1, 0, 2, 2));                  // x2 = cursor - start
        a.label("wloop");
        a.emitTo("wdone", d -> A64.compareAndBranch(sf, 0, d, 2));
        a.emit(A64.moveWide(sf, 0b10, 0, 1, 0));
        a.emit(A64.moveWide(sf, 0b10, 0, SYS_WRITE, 8));
        a.emit(A64.exceptionGeneration(0, 0, 0b01));
        a.emit(A64.addSubImmediate(sf, 1, 1, 0, 0, 0, A64.R31));                   // cmp x0, #0
        a.emitTo("fail", d -> A64.conditionalBranch(d, LE));
        a.emit(A64.addSubShiftedRegister(sf, 0, 0, 0, 0, 0, 1, 1));                  // x1 += x0
        a.emit(A64.addSubShiftedRegister(sf, 1, 0, 0, 0, 0, 2, 2));                  // x2 -= x0
        a.emitTo("wloop", d -> A64.unconditionalBranchImmediate(0, d));
        a.label("wdone");
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, G_CURSOR / 8, 10, 2));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, G_BATCH_START / 8, 10, 2));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, G_BATCH_FILL / 8, 10, A64.R31));
        a.emit(A64.unconditionalBranchRegister(0b0010, 30));                          // ret
        // The signal handler (x0 signo, x1 siginfo, x2 ucontext): note the signal, its PC and address, and resume at
        // the epilogue with the registers of the signal's context.
        a.label("handler");
        a.adr(3, GLOBALS);
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, G_SIGNAL / 8, 3, 0));
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, UC_PC / 8, 2, 4));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, G_SIGPC / 8, 3, 4));
        a.emit(A64.loadStoreUnsignedImmediate(3, 1, SI_ADDR / 8, 1, 4));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, G_SIGADDR / 8, 3, 4));
        a.adr(4, a.address("epilogue"));
        a.emit(A64.loadStoreUnsignedImmediate(3, 0, UC_PC / 8, 2, 4));
        a.emit(A64.unconditionalBranchRegister(0b0010, 30));                          // ret (to the sigreturn)
        a.label("fail");
        a.emit(A64.moveWide(sf, 0b10, 0, 3, 0));
        a.emit(A64.moveWide(sf, 0b10, 0, SYS_EXIT, 8));
        a.emit(A64.exceptionGeneration(0, 0, 0b01));
        if (a.pc() > GLOBALS) {
            throw new IllegalStateException("driver overlaps its globals");
        }
    }

    /**
     * How a case that died of a signal is described, on both sides (jvmm's runner maps its exceptions to the signal
     * Linux would send, see {@link JvmmEmulator}): the signal and the PC, and the address for SIGSEGV and SIGBUS.
     */
    static String signalFault(int signal, long pc, long address) {
        String name = switch (signal) {
            case 4 -> "SIGILL";
            case 5 -> "SIGTRAP";
            case 7 -> "SIGBUS";
            case 8 -> "SIGFPE";
            case 11 -> "SIGSEGV";
            default -> "signal " + signal;
        };
        return name + " at pc " + Long.toHexString(pc)
                + (signal == 7 || signal == 11 ? ", address " + Long.toHexString(address) : "");
    }

    private static List<ArchState> parse(byte[] bytes, int n) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        List<ArchState> states = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int r = i * RECORD_SIZE;
            long[] x = new long[31];
            for (int k = 0; k < 31; k++) {
                x[k] = b.getLong(r + R_X0 + 8 * k);
            }
            byte[] scratch = new byte[SCRATCH_SIZE];
            b.get(r + R_SCRATCH, scratch);
            int signal = (int) b.getLong(r + R_SIGNAL);
            String fault = signal == 0 ? null : signalFault(signal, b.getLong(r + R_SIGPC), b.getLong(r + R_SIGADDR));
            states.add(new ArchState(x, b.getLong(r + R_SP), (int) b.getLong(r + R_NZCV), scratch, fault));
        }
        return states;
    }
}
