/*
 * PL011 console (ARM PrimeCell UART PL011 TRM, DDI 0183): polled transmit, polled or interrupt-driven receive.
 * The base address comes from the device tree (/chosen/stdout-path, else the first "arm,pl011" node).
 */
#include "rt.h"

#define UARTDR 0x000
#define UARTFR 0x018
#define UARTCR 0x030
#define UARTIMSC 0x038
#define UARTICR 0x044

#define FR_RXFE BIT(4)
#define FR_TXFF BIT(5)
#define FR_BUSY BIT(3)
#define CR_UARTEN BIT(0)
#define CR_TXE BIT(8)
#define CR_RXE BIT(9)
#define IM_RX BIT(4)
#define IM_RT BIT(6)

static u64 base;

void uart_init(u64 b)
{
    base = b;
    /*
     * Use the UART as the boot loader left it, as Linux's earlycon does (QEMU: 8N1, FIFOs off): a UARTLCR_H write
     * that changes FEN flushes the receive FIFO (PL011 TRM, UARTLCR_H), which would drop console input that arrived
     * before the guest started. Only make sure the UART, its transmitter and receiver are on, with no interrupts.
     */
    mmio_write32(base + UARTIMSC, 0);
    mmio_write32(base + UARTICR, 0x7ff);
    u32 cr = mmio_read32(base + UARTCR);
    if ((cr & (CR_UARTEN | CR_TXE | CR_RXE)) != (CR_UARTEN | CR_TXE | CR_RXE)) {
        mmio_write32(base + UARTCR, cr | CR_UARTEN | CR_TXE | CR_RXE);
    }
}

u64 uart_base(void)
{
    return base;
}

void uart_putc(char c)
{
    if (base == 0) {
        return;
    }
    while ((mmio_read32(base + UARTFR) & FR_TXFF) != 0) {
        cpu_relax();
    }
    mmio_write32(base + UARTDR, (u8)c);
}

int uart_getc(void)
{
    if (base == 0 || (mmio_read32(base + UARTFR) & FR_RXFE) != 0) {
        return -1;
    }
    return (int)(mmio_read32(base + UARTDR) & 0xff);
}

void uart_rx_irq(bool on)
{
    mmio_write32(base + UARTIMSC, on ? IM_RX | IM_RT : 0);
}

void uart_clear_irq(void)
{
    mmio_write32(base + UARTICR, IM_RX | IM_RT);
}
