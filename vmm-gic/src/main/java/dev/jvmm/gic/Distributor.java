package dev.jvmm.gic;

import dev.jvmm.core.bus.MmioDevice;

import static dev.jvmm.gic.DistributorRegisterDescriptor.BIT_ARRAY_BYTES;
import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_ARE;
import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_DS;
import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_ENABLE_GRP0;
import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_ENABLE_GRP1;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_CPENDSGIR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_CTLR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ICACTIVER;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ICENABLER;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ICFGR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ICPENDR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_IGROUPR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_IGRPMODR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_IIDR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_IPRIORITYR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_IROUTER;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ISACTIVER;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ISENABLER;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ISPENDR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ITARGETSR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_NSACR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_SGIR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_SPENDSGIR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_STATUSR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_TYPER;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_TYPER2;
import static dev.jvmm.gic.DistributorRegisterDescriptor.SPI_LIMIT;
import static dev.jvmm.gic.DistributorRegisterDescriptor.TYPER_ID_BITS_SHIFT;
import static dev.jvmm.gic.DistributorRegisterDescriptor.TYPER_LPIS;
import static dev.jvmm.gic.RegisterTable.W32;
import static dev.jvmm.gic.RegisterTable.W64;
import static dev.jvmm.gic.RegisterTable.W8;

/**
 * The distributor (GICD): the SPIs' per-interrupt registers and routing, and the group enables, as KVM's
 * {@code vgic_v3_dist_registers[]} lays the frame out (see {@link DistributorRegisterDescriptor} for the map). The
 * state itself lives in {@link WiredInterrupts}; this class decodes accesses.
 *
 * <p>Per-interrupt register arrays cover INTIDs 0..1023; the words for INTIDs 0..31 are RAZ/WI (affinity routing:
 * the redistributors hold SGIs and PPIs, KVM's {@code REGISTER_DESC_WITH_BITS_PER_IRQ_SHARED}), and so are the words
 * beyond the last implemented SPI (IHI 0069: bits of unimplemented interrupts are RAZ/WI).
 *
 * <p>GICD_CTLR presents the single security state view KVM gives a guest: DS and ARE read as one and ignore writes;
 * RWP reads 0 because a write has taken effect everywhere when it returns. EnableGrp0 and EnableGrp1 gate SGIs,
 * PPIs and SPIs of their group (QEMU's gicd_int_pending and gicr_int_pending); LPIs are not gated by them, as in
 * QEMU (GICR_CTLR.EnableLPIs and ICC_IGRPEN1_EL1 gate LPIs).
 */
final class Distributor implements MmioDevice {
    private final GicV3 gic;
    private final WiredInterrupts wired;

    private static final RegisterTable<Distributor> FRAME = new RegisterTable<>(
            RegisterTable.register("GICD_CTLR", GICD_CTLR, 4, W32,
                    (d, at, size) -> d.wired.readCtlr() | CTLR_ARE | CTLR_DS,
                    (d, at, size, value) -> d.wired.writeCtlr((int) value & (CTLR_ENABLE_GRP0 | CTLR_ENABLE_GRP1))),
            RegisterTable.readOnly("GICD_TYPER", GICD_TYPER, 4, W32, (d, at, size) -> typer()),
            RegisterTable.readOnly("GICD_IIDR", GICD_IIDR, 4, W32, (d, at, size) -> RegisterAccess.IIDR),
            RegisterTable.raz("GICD_TYPER2", GICD_TYPER2, 4, W32),
            RegisterTable.raz("GICD_STATUSR", GICD_STATUSR, 4, W32),
            bitArray("GICD_IGROUPR<n>", GICD_IGROUPR, WiredInterrupts.Field.GROUP, WiredInterrupts.Write.ASSIGN),
            bitArray("GICD_ISENABLER<n>", GICD_ISENABLER, WiredInterrupts.Field.ENABLED, WiredInterrupts.Write.SET),
            bitArray("GICD_ICENABLER<n>", GICD_ICENABLER, WiredInterrupts.Field.ENABLED, WiredInterrupts.Write.CLEAR),
            bitArray("GICD_ISPENDR<n>", GICD_ISPENDR, WiredInterrupts.Field.PENDING, WiredInterrupts.Write.SET),
            bitArray("GICD_ICPENDR<n>", GICD_ICPENDR, WiredInterrupts.Field.PENDING, WiredInterrupts.Write.CLEAR),
            bitArray("GICD_ISACTIVER<n>", GICD_ISACTIVER, WiredInterrupts.Field.ACTIVE, WiredInterrupts.Write.SET),
            bitArray("GICD_ICACTIVER<n>", GICD_ICACTIVER, WiredInterrupts.Field.ACTIVE, WiredInterrupts.Write.CLEAR),
            RegisterTable.register("GICD_IPRIORITYR<n>", GICD_IPRIORITYR, 8 * BIT_ARRAY_BYTES, W8 | W32,
                    Distributor::readPriority, Distributor::writePriority),
            RegisterTable.raz("GICD_ITARGETSR<n>", GICD_ITARGETSR, 8 * BIT_ARRAY_BYTES, W8 | W32),
            RegisterTable.register("GICD_ICFGR<n>", GICD_ICFGR, 2 * BIT_ARRAY_BYTES, W32,
                    Distributor::readConfig, Distributor::writeConfig),
            RegisterTable.raz("GICD_IGRPMODR<n>", GICD_IGRPMODR, BIT_ARRAY_BYTES, W32),
            RegisterTable.raz("GICD_NSACR<n>", GICD_NSACR, 2 * BIT_ARRAY_BYTES, W32),
            RegisterTable.raz("GICD_SGIR", GICD_SGIR, 4, W32),
            RegisterTable.raz("GICD_CPENDSGIR<n>", GICD_CPENDSGIR, 16, W8 | W32),
            RegisterTable.raz("GICD_SPENDSGIR<n>", GICD_SPENDSGIR, 16, W8 | W32),
            RegisterTable.register("GICD_IROUTER<n>", GICD_IROUTER, 8L * 1024, W32 | W64,
                    Distributor::readRoute, Distributor::writeRoute),
            RegisterTable.readOnly("GICD_PIDR4..GICD_CIDR3", RegisterAccess.ID_REGISTERS,
                    RegisterAccess.ID_REGISTERS_LENGTH, W32, RegisterAccess::readIdRegister));

    /** A row for a one-bit-per-INTID array (1024 INTIDs); words without an implemented SPI are RAZ/WI. */
    private static RegisterTable.Register<Distributor> bitArray(String name, long offset, WiredInterrupts.Field field,
                                                               WiredInterrupts.Write write) {
        return RegisterTable.register(name, offset, BIT_ARRAY_BYTES, W32,
                (d, at, size) -> {
                    int b = d.bankOfWord((int) (at >>> 2));
                    return b < 0 ? 0 : d.wired.read(field, b) & 0xFFFF_FFFFL;
                },
                (d, at, size, value) -> {
                    int b = d.bankOfWord((int) (at >>> 2));
                    if (b >= 0) {
                        write.apply(d.wired, field, b, (int) value);
                    }
                });
    }

    Distributor(GicV3 gic) {
        this.gic = gic;
        this.wired = gic.wired();
    }

    /**
     * GICD_TYPER: ITLinesNumber for 288 INTIDs, LPIs with 16 INTID bits, 1-of-N supported (No1N = 0), no Aff3
     * (A3V = 0), no message-based SPIs, no security extension, CPUNumber 0 (ARE = 1), as QEMU's gicd_readl
     * describes its own choices.
     */
    private static long typer() {
        return (SPI_LIMIT / 32 - 1) | TYPER_LPIS | ((long) (LpiTableDescriptor.ID_BITS - 1) << TYPER_ID_BITS_SHIFT);
    }

    @Override
    public long read(long offset, int size) {
        return FRAME.read(this, offset, size, gic.unsupportedAccesses());
    }

    @Override
    public void write(long offset, int size, long value, int requesterId) {
        FRAME.write(this, offset, size, value, requesterId, gic.unsupportedAccesses());
    }

    /** The SPI bank of register word {@code word} (INTIDs 32 word ..), or -1 when the word holds no SPI. */
    private int bankOfWord(int word) {
        return word >= 1 && word < SPI_LIMIT / 32 ? wired.spiBank(word) : -1;
    }

    /** GICD_IPRIORITYR: one byte per INTID, byte or word access; 4 bytes never straddle two banks. */
    private long readPriority(long at, int size) {
        int b = bankOfWord((int) (at >>> 5));
        return b < 0 ? 0 : wired.readPriority(b, (int) (at & 31), size);
    }

    private void writePriority(long at, int size, long value) {
        int b = bankOfWord((int) (at >>> 5));
        if (b >= 0) {
            wired.writePriority(b, (int) (at & 31), size, value);
        }
    }

    /** GICD_ICFGR: 16 INTIDs per word; word 2n and 2n + 1 are the halves of bank n. */
    private long readConfig(long at, int size) {
        int word = (int) (at >>> 2);
        int b = bankOfWord(word >>> 1);
        return b < 0 ? 0 : wired.readConfig(b, word & 1) & 0xFFFF_FFFFL;
    }

    private void writeConfig(long at, int size, long value) {
        int word = (int) (at >>> 2);
        int b = bankOfWord(word >>> 1);
        if (b >= 0) {
            wired.writeConfig(b, word & 1, (int) value);
        }
    }

    /** GICD_IROUTER&lt;n&gt;: 64-bit, or 32-bit halves; the upper half (Aff3) is RAZ/WI. */
    private long readRoute(long at, int size) {
        int intid = (int) (at >>> 3);
        if (!DistributorRegisterDescriptor.isSpi(intid)) {
            return 0;
        }
        return RegisterAccess.read64(wired.readRoute(intid), at & 7, size);
    }

    private void writeRoute(long at, int size, long value) {
        int intid = (int) (at >>> 3);
        if (!DistributorRegisterDescriptor.isSpi(intid) || (at & 7) == 4) {
            return; // reserved INTIDs; the upper half holds only Aff3, which is RAZ/WI
        }
        // The low half holds every writable bit, so a 32-bit write of it and a 64-bit write both set the register.
        wired.writeRoute(intid, value);
    }
}
