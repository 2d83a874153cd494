package dev.jvmm.core.bus;

/**
 * An access to an address where no device answers, raised only by a bus in strict mode. The vCPU that made the
 * access sees it as a synchronous external abort (a data abort): guest code may catch it as its exception vector
 * would; if it does not, the vCPU stops with a fault.
 */
public final class MmioFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long address;
    private final int size;
    private final boolean write;

    public MmioFault(long address, int size, boolean write) {
        super((write ? "write" : "read") + " of " + size + " bytes at 0x" + Long.toHexString(address)
                + ": no device", null, false, false);
        this.address = address;
        this.size = size;
        this.write = write;
    }

    public long address() {
        return address;
    }

    public int size() {
        return size;
    }

    public boolean isWrite() {
        return write;
    }
}
