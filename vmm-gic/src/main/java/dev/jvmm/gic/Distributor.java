package dev.jvmm.gic;

import dev.jvmm.core.bus.MmioDevice;

import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_ARE;
import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_DS;
import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_ENABLE_GRP0;
import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_ENABLE_GRP1;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_CTLR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_IIDR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_TYPER;
import static dev.jvmm.gic.DistributorRegisterDescriptor.TYPER_ID_BITS_SHIFT;
import static dev.jvmm.gic.DistributorRegisterDescriptor.TYPER_LPIS;

/**
 * The distributor, reduced to what a guest that uses only LPIs needs: the group enables, and GICD_TYPER telling it
 * that LPIs exist (LPIS = 1, IDbits = 15 for 16 INTID bits) and that there are no SPIs (ITLinesNumber = 0).
 *
 * <p>GICD_CTLR presents the single-security-state view KVM gives a guest: DS and ARE read as one and ignore
 * writes. The group enables are stored; they do not gate LPIs, which the redistributors deliver directly
 * (GICR_CTLR.EnableLPIs and the CPU interface's ICC_IGRPEN1_EL1 gate them).
 */
final class Distributor implements MmioDevice {
    private volatile int ctlr;

    @Override
    public long read(long offset, int size) {
        if (size != 4) {
            return 0;
        }
        if (offset == GICD_CTLR) {
            return ctlr | CTLR_ARE | CTLR_DS;
        }
        if (offset == GICD_TYPER) {
            return TYPER_LPIS | ((long) (LpiTableDescriptor.ID_BITS - 1) << TYPER_ID_BITS_SHIFT);
        }
        if (offset == GICD_IIDR) {
            return RegisterAccess.IIDR;
        }
        if (offset >= RegisterAccess.ID_REGISTERS && (offset & 3) == 0) {
            return RegisterAccess.idRegister(offset);
        }
        return 0;
    }

    @Override
    public void write(long offset, int size, long value, int requesterId) {
        if (offset == GICD_CTLR && size == 4) {
            ctlr = (int) value & (CTLR_ENABLE_GRP0 | CTLR_ENABLE_GRP1);
        }
    }
}
