/*
 * uart: the PL011 console (PrimeCell UART PL011 TRM): its identification registers and flags, receiving a line by
 * polling and a line through the receive interrupt (the SPI from the device tree's `interrupts`), echoing both.
 * The case feeds uart/input.txt to standard input.
 */
#include "rt.h"
#include "check.h"
#include "fdt.h"
#include "gic.h"
#include "timer.h"

#define UARTFR 0x018
#define UARTIMSC 0x038
#define UARTRIS 0x03c
#define UARTMIS 0x040

static char line[128];
static volatile int len;
static volatile bool line_done;
static volatile int irqs;

static void rx_handler(u32 intid, void *arg)
{
    irqs++;
    /*
     * Acknowledge before draining, not after: a character that arrives once the FIFO reads empty raises the
     * interrupt again. Cleared after the drain, it would be cleared with it, and QEMU's PL011 raises RXRIS only
     * when the FIFO goes from empty to one entry, so the rest of the line would wait, unannounced, while the main
     * loop sleeps in WFI.
     */
    uart_clear_irq();
    int c;
    while ((c = uart_getc()) >= 0) {
        if (c == '\n' || c == '\r') {
            if (len > 0) {
                line_done = true;
            }
            continue;
        }
        if (!line_done && len < (int)sizeof line - 1) {
            line[len++] = (char)c;
        }
    }
}

int main(void)
{
    printf("uart: the PL011 console\n");
    u64 base = uart_base();
    int node = fdt_find_compatible(-1, "arm,pl011");
    int ilen;
    const u32 *irq = fdt_prop(node, "interrupts", &ilen);
    u32 intid = irq != NULL ? fdt32(&irq[1]) + (fdt32(&irq[0]) == 1 ? 16 : 32) : 0;
    printf("PL011 at 0x%lx, interrupt INTID %u\n", base, intid);
    printf("UARTPeriphID0..3 0x%02x 0x%02x 0x%02x 0x%02x, UARTPCellID0..3 0x%02x 0x%02x 0x%02x 0x%02x\n",
           mmio_read32(base + 0xfe0), mmio_read32(base + 0xfe4), mmio_read32(base + 0xfe8), mmio_read32(base + 0xfec),
           mmio_read32(base + 0xff0), mmio_read32(base + 0xff4), mmio_read32(base + 0xff8), mmio_read32(base + 0xffc));
    check((mmio_read32(base + 0xfe0) & 0xff) == 0x11 && (mmio_read32(base + 0xfe4) & 0xff) == 0x10,
          "UARTPeriphID: part number 0x011, designer ARM (0x41)");
    check(mmio_read32(base + 0xff0) == 0x0d && mmio_read32(base + 0xff4) == 0xf0 && mmio_read32(base + 0xff8) == 0x05
          && mmio_read32(base + 0xffc) == 0xb1, "UARTPCellID: 0xB105F00D");
    check((mmio_read32(base + UARTFR) & BIT(5)) == 0, "UARTFR.TXFF = 0: room to transmit");

    /* Line 1 by polling. */
    u64 start = timer_now();
    len = 0;
    while (!line_done && timer_now() - start < ns_to_ticks(3000000000ULL)) {
        int c = uart_getc();
        if (c < 0) {
            udelay(100);
            continue;
        }
        if (c == '\n' || c == '\r') {
            line_done = len > 0;
        } else if (len < (int)sizeof line - 1) {
            line[len++] = (char)c;
        }
    }
    line[len] = 0;
    printf("polled line: \"%s\"\n", line);
    check(line_done, "a line arrived on the console input (polling UARTFR.RXFE and UARTDR)");

    /* Line 2 through the receive interrupt. */
    gic_init();
    gic_set_handler(intid, rx_handler, NULL);
    gic_enable(intid);
    len = 0;
    line_done = false;
    uart_rx_irq(true);
    check((mmio_read32(base + UARTIMSC) & (BIT(4) | BIT(6))) == (BIT(4) | BIT(6)), "UARTIMSC: RXIM and RTIM set");
    irq_enable();
    start = timer_now();
    while (!line_done && timer_now() - start < ns_to_ticks(3000000000ULL)) {
        wfi();
    }
    irq_disable();
    uart_rx_irq(false);
    line[len] = 0;
    printf("interrupt line: \"%s\"\n", line);
    check(line_done && irqs > 0, "a line arrived through the receive interrupt");
    check((mmio_read32(base + UARTMIS) & (BIT(4) | BIT(6))) == 0, "UARTMIS: no receive interrupt left");
    return check_summary("uart");
}
