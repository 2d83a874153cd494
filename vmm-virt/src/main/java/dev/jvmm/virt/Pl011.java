package dev.jvmm.virt;

import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.irq.IrqLine;

/**
 * The ARM PrimeCell UART (PL011), r1p5 as QEMU's {@code hw/char/pl011.c} (7.2) models it: what Linux's
 * {@code amba-pl011} driver and {@code earlycon=pl011} use. The registers (PL011 TRM, ARM DDI 0183G, 3.2 "Summary of
 * registers"):
 *
 * <pre>
 *  0x000 UARTDR     data: a store transmits (to the {@link SerialConsole}); a load takes the oldest received byte
 *  0x004 UARTRSR    receive status (load) / UARTECR error clear (store)
 *  0x018 UARTFR     flags: TXFE 7, RXFF 6, TXFF 5, RXFE 4, BUSY 3 (read-only)
 *  0x020 UARTILPR   IrDA low-power counter       0x024 UARTIBRD integer baud divisor (16 bits)
 *  0x028 UARTFBRD   fractional baud divisor (6 bits)
 *  0x02C UARTLCR_H  line control: FEN (bit 4) switches the receive FIFO between 16 entries and 1, and empties it
 *  0x030 UARTCR     control (reset 0x300: TXE, RXE)   0x034 UARTIFLS FIFO levels (reset 0x12)
 *  0x038 UARTIMSC   interrupt mask    0x03C UARTRIS raw status    0x040 UARTMIS masked status   0x044 UARTICR clear
 *  0x048 UARTDMACR  DMA control (stored; no DMA)
 *  0xFE0..0xFFC     UARTPeriphID0..3 0x11 0x10 0x14 0x00, UARTPCellID0..3 0x0D 0xF0 0x05 0xB1
 * </pre>
 *
 * <h2>Interrupts (one combined line, UARTINTR: SPI 1 on the virt board, level-sensitive)</h2>
 * As QEMU: the receive interrupt (RXRIS, bit 4) rises when a byte arrives in an empty FIFO (QEMU's receive trigger
 * level is one byte, because Linux reads the FIFO only on an interrupt) and falls when a load of UARTDR empties the
 * FIFO; there is no receive timeout interrupt (RTRIS stays 0). The transmit interrupt (TXRIS, bit 5) rises with every
 * store to UARTDR, since the byte leaves at once; when the host does not keep up and the console's transmit ring is
 * full, UARTFR shows TXFF (and not TXFE) and TXRIS rises again once the ring drains, as a real transmit FIFO does
 * when its level falls.
 *
 * <h2>Threads</h2>
 * vCPUs (MMIO), the console's reader (input arrives) and writer (room again) all meet in this object's monitor; the
 * interrupt line is driven inside it (the GIC's wired lock is a leaf).
 */
final class Pl011 implements MmioDevice, SerialConsole.Listener {
    static final long SIZE = 0x1000;

    static final int UARTDR = 0x000;
    static final int UARTRSR = 0x004;
    static final int UARTFR = 0x018;
    static final int UARTILPR = 0x020;
    static final int UARTIBRD = 0x024;
    static final int UARTFBRD = 0x028;
    static final int UARTLCR_H = 0x02C;
    static final int UARTCR = 0x030;
    static final int UARTIFLS = 0x034;
    static final int UARTIMSC = 0x038;
    static final int UARTRIS = 0x03C;
    static final int UARTMIS = 0x040;
    static final int UARTICR = 0x044;
    static final int UARTDMACR = 0x048;
    static final int ID_BASE = 0xFE0;

    static final int FR_BUSY = 1 << 3;
    static final int FR_RXFE = 1 << 4;
    static final int FR_TXFF = 1 << 5;
    static final int FR_RXFF = 1 << 6;
    static final int FR_TXFE = 1 << 7;
    static final int LCR_H_FEN = 1 << 4;

    static final int INT_RX = 1 << 4;
    static final int INT_TX = 1 << 5;
    /** RIMIS, CTSMIS, DCDMIS, DSRMIS, RXIM, TXIM, RTIM, FEIM, PEIM, BEIM, OEIM: bits 0..10. */
    static final int INT_ALL = 0x7FF;

    static final int FIFO_DEPTH = 16;
    /** UARTPeriphID0..3 (part 0x011, designer 0x41 ARM, revision 1, configuration 0), UARTPCellID0..3. */
    static final int[] ID = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

    private final SerialConsole console;
    private final IrqLine irq;

    // Register state (QEMU's pl011_reset values), guarded by this.
    private int lcr;
    private int rsr;
    private int cr = 0x300;
    private int dmacr;
    private int intEnabled;
    private int intLevel;
    private int ilpr;
    private int ibrd;
    private int fbrd;
    private int ifl = 0x12;
    private final int[] readFifo = new int[FIFO_DEPTH];
    private int readPos;
    private int readCount;
    private boolean lineHigh;
    private long unknownAccesses;

    Pl011(SerialConsole console, IrqLine irq) {
        this.console = console;
        this.irq = irq;
    }

    /** Plugs this UART into its console (after the machine is built; a reset plugs the new one in). */
    void connect() {
        console.setListener(this);
    }

    @Override
    public synchronized long read(long offset, int size) {
        int reg = (int) offset & ~3;
        int shift = 8 * ((int) offset & 3);
        long v = readRegister(reg) >>> shift;
        return size >= 4 ? v & 0xFFFF_FFFFL : v & ((1L << (8 * size)) - 1);
    }

    @Override
    public synchronized void write(long offset, int size, long value, int requesterId) {
        if ((offset & 3) != 0) {
            unknownAccesses++;                              // a store into the middle of a register: ignored
            return;
        }
        writeRegister((int) offset, (int) value);
    }

    private int readRegister(int reg) {
        switch (reg) {
            case UARTDR: {
                int c = readFifo[readPos];
                if (readCount > 0) {
                    readCount--;
                    readPos = (readPos + 1) % FIFO_DEPTH;
                }
                if (readCount == 0) {
                    intLevel &= ~INT_RX;                   // QEMU: read_count == read_trigger - 1
                }
                rsr = c >> 8;
                refill();
                update();
                return c;
            }
            case UARTRSR:
                return rsr;
            case UARTFR:
                return flags();
            case UARTILPR:
                return ilpr;
            case UARTIBRD:
                return ibrd;
            case UARTFBRD:
                return fbrd;
            case UARTLCR_H:
                return lcr;
            case UARTCR:
                return cr;
            case UARTIFLS:
                return ifl;
            case UARTIMSC:
                return intEnabled;
            case UARTRIS:
                return intLevel;
            case UARTMIS:
                return intLevel & intEnabled;
            case UARTDMACR:
                return dmacr;
            default:
                if (reg >= ID_BASE && reg < ID_BASE + 4 * ID.length) {
                    return ID[(reg - ID_BASE) >> 2];
                }
                unknownAccesses++;
                return 0;
        }
    }

    private void writeRegister(int reg, int value) {
        switch (reg) {
            case UARTDR:
                // QEMU transmits whether or not UARTCR.UARTEN/TXE are set ("??? Check if transmitter is enabled").
                if (console.offer((byte) value)) {
                    intLevel |= INT_TX;
                }
                update();
                break;
            case UARTRSR:
                rsr = 0;                                     // UARTECR: any store clears the error flags
                break;
            case UARTILPR:
                ilpr = value & 0xFF;
                break;
            case UARTIBRD:
                ibrd = value & 0xFFFF;
                break;
            case UARTFBRD:
                fbrd = value & 0x3F;
                break;
            case UARTLCR_H:
                if (((lcr ^ value) & LCR_H_FEN) != 0) {
                    // Enabling or disabling the FIFOs empties them; the receive interrupt, a function of the FIFO's
                    // level, falls with it (QEMU 7.2 leaves RXRIS set over an empty FIFO).
                    readCount = 0;
                    readPos = 0;
                    intLevel &= ~INT_RX;
                }
                lcr = value & 0xFF;
                refill();
                update();
                break;
            case UARTCR:
                cr = value & 0xFFFF;
                break;
            case UARTIFLS:
                ifl = value & 0x3F;
                break;
            case UARTIMSC:
                intEnabled = value & INT_ALL;
                update();
                break;
            case UARTICR:
                intLevel &= ~value;
                update();
                break;
            case UARTDMACR:
                dmacr = value & 0x7;
                break;
            default:
                unknownAccesses++;                           // UARTFR, UARTRIS, UARTMIS and the IDs are read-only
                break;
        }
    }

    private int flags() {
        int f = 0;
        boolean txFull = console.transmitFull();
        f |= txFull ? FR_TXFF : FR_TXFE;
        if (readCount == 0) {
            f |= FR_RXFE;
        }
        if (readCount == capacity()) {
            f |= FR_RXFF;
        }
        return f;
    }

    private int capacity() {
        return (lcr & LCR_H_FEN) != 0 ? FIFO_DEPTH : 1;
    }

    /** Moves waiting console input into the receive FIFO while it has room (QEMU's pl011_can_receive/put_fifo). */
    private void refill() {
        while (readCount < capacity()) {
            int b = console.poll();
            if (b < 0) {
                return;
            }
            readFifo[(readPos + readCount) % FIFO_DEPTH] = b;
            readCount++;
            if (readCount == 1) {
                intLevel |= INT_RX;                          // QEMU: read_count == read_trigger (1)
            }
        }
    }

    private void update() {
        boolean high = (intLevel & intEnabled) != 0;
        if (high != lineHigh) {
            lineHigh = high;
            irq.set(high);
        }
    }

    @Override
    public synchronized void inputReady() {
        refill();
        update();
    }

    @Override
    public synchronized void transmitRoom() {
        intLevel |= INT_TX;
        update();
    }

    /** Loads and stores of offsets this UART does not implement, and stores to read-only registers. */
    synchronized long unknownAccesses() {
        return unknownAccesses;
    }
}
