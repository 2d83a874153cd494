package dev.jvmm.net.virtio;

import dev.jvmm.core.concurrent.VarHandles;
import dev.jvmm.core.event.EventFd;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * A virtio-mmio device's interrupt side: the InterruptStatus register, and the eventfd each source signals. Either
 * one eventfd per source, each bound to an MSI route ({@link #msi}), or one for every source, bound to an irqchip
 * route to the slot's SPI ({@link #wired}).
 *
 * <pre>
 *   queue q used a buffer ──▶ InterruptStatus |= USED_BUFFER ──▶ sources[q].signal()
 *   configuration changed ──▶ InterruptStatus |= CONFIG      ──▶ sources[config].signal()
 *                                                                  │ irqfd wake-up in this thread (or the injector's)
 *                        MSI:   sources[e] = EventID e's eventfd ──▶ MSI to GITS_TRANSLATER (DeviceID, EventID e)
 *                        wired: sources[e] = the slot's eventfd  ──▶ a rising edge on SPI 16 + slot
 * </pre>
 *
 * The specification orders the status bit before the interrupt (4.2.3.4: the device sets InterruptStatus, then
 * notifies), so a driver that reads InterruptStatus in its handler always finds the reason. Signalling is safe from
 * any thread and allocates nothing; a bit that is already set is not written again. InterruptACK clears the bits
 * written (4.2.2), whatever the mode.
 *
 * <h2>Wired mode: an edge for every notification</h2>
 * Every notification sets its bit and then signals the slot's eventfd, whose irqfd pulses the SPI (KVM's
 * {@code irqfd_inject}: level 1, then 0), even when the bit was already set. That is Firecracker's
 * {@code IrqTrigger::trigger_irq} ({@code irq_status.fetch_or}, then a write to the irqfd), and the trigger QEMU's
 * device tree declares for a virtio-mmio slot: edge rising, {@code <0 0x10+n 1>}. So every notification is followed
 * by a rising edge that comes after its bit was set; an edge while the SPI is pending merges into it, and an edge
 * while it is active (the handler runs) leaves it active and pending, taken again after the handler's EOI (GICv3,
 * "Interrupt lifecycle"). No notification goes without an interrupt that comes after it.
 *
 * <p>QEMU's own virtio-mmio drives a level instead: {@code virtio_mmio_update_irq} sets the line to
 * {@code isr != 0} after every change, and the GIC, configured edge-triggered as the tree says, latches only when
 * InterruptStatus goes from 0 to non-zero. Both keep every interrupt for the drivers a {@code virt} guest runs, which
 * read InterruptStatus and write InterruptACK <em>before</em> they walk the rings: Linux's {@code vm_interrupt}
 * ({@code readl(INTERRUPT_STATUS); writel(status, INTERRUPT_ACK);} then {@code vring_interrupt} on every queue) and
 * the bare-metal driver of {@code guests/net} ({@code wired_handler}: read, ACK, then the receive ring, which it
 * re-arms with EVENT_IDX and re-checks):
 * <ul>
 *   <li>a notification before the handler's read is seen by that read;</li>
 *   <li>one between the read and the ACK finds its bit set, and its used entries were published before the bit, so
 *       the ring walk after the ACK takes them (here its edge also leaves the SPI pending: one extra entry);</li>
 *   <li>one after the ACK sets a cleared bit: a new edge either way, taken after the handler's EOI.</li>
 * </ul>
 * An edge per notification is the choice here because an irqfd carries events, not levels (a level through an irqfd
 * needs KVM's resample eventfd, lowered at EOI), and the irqfd gives wired interrupts the inline and worker modes of
 * MSIs; because no line state has to be kept consistent with a register the guest clears from its own thread (QEMU
 * keeps the two together under its big lock; here the device's event loop and the vCPU run at once, and a line left
 * high with InterruptStatus 0 would swallow the next 0-to-1 edge); and because a driver that acknowledges late, or
 * never, still gets an interrupt per notification. The price is the extra entry above: a handler may find
 * InterruptStatus 0 (Linux answers IRQ_NONE, which its spurious-interrupt check tolerates; the bare-metal driver
 * walks its ring anyway). A guest that configures the SPI level-sensitive, against the device tree, sees only pulses,
 * which a level-sensitive input does not latch, as on KVM.
 */
public final class VirtioInterrupts {
    private static final VarHandle STATUS = VarHandles.field(MethodHandles.lookup(), "status", int.class);

    /** The bits InterruptStatus defines (4.2.2): used buffer, configuration change. */
    private static final int DEFINED_BITS = VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_VRING
            | VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_CONFIG;

    private final EventFd[] sources;
    private final int configVector;
    private final boolean wired;
    @SuppressWarnings("unused") // accessed through STATUS
    private volatile int status;
    private final LongAdder signalled = new LongAdder();

    private VirtioInterrupts(EventFd[] sources, int configVector, boolean wired) {
        if (configVector < 0 || configVector >= sources.length) {
            throw new IllegalArgumentException("config vector " + configVector + " outside 0.." + (sources.length - 1));
        }
        this.sources = sources.clone();
        this.configVector = configVector;
        this.wired = wired;
    }

    /**
     * MSI mode: one eventfd per EventID.
     *
     * @param vectors      one eventfd per EventID: index q is queue q's used-buffer interrupt
     * @param configVector the index in {@code vectors} of the configuration-change interrupt
     */
    public static VirtioInterrupts msi(EventFd[] vectors, int configVector) {
        return new VirtioInterrupts(vectors, configVector, false);
    }

    /**
     * Wired mode: {@code queues} queues and the configuration change all signal {@code line}, the eventfd of the
     * slot's SPI (see the class documentation).
     */
    public static VirtioInterrupts wired(EventFd line, int queues) {
        if (queues < 1) {
            throw new IllegalArgumentException("a device has at least one queue, got " + queues);
        }
        EventFd[] s = new EventFd[queues + 1];
        Arrays.fill(s, line);
        return new VirtioInterrupts(s, queues, true);
    }

    /** Queue {@code queue} used buffers: set bit 0 of InterruptStatus, then signal the queue's interrupt. */
    public void signalUsedBuffer(int queue) {
        setBits(VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_VRING);
        // Counted before the signal: an injector thread may raise the interrupt before this thread returns, and the
        // count of signals must never read below the count of interrupts raised.
        signalled.increment();
        sources[queue].signal();
    }

    /** The configuration changed (or the device needs a reset): set bit 1, then signal the configuration interrupt. */
    public void signalConfigChange() {
        setBits(VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_CONFIG);
        signalled.increment();
        sources[configVector].signal();
    }

    private void setBits(int bits) {
        if (((int) STATUS.getVolatile(this) & bits) != bits) {
            STATUS.getAndBitwiseOr(this, bits);
        }
    }

    /** The InterruptStatus register. */
    public int status() {
        return (int) STATUS.getVolatile(this);
    }

    /** InterruptACK: clears the bits written (bits InterruptStatus does not define are ignored). */
    public void acknowledge(int bits) {
        int clear = bits & DEFINED_BITS;
        if (clear != 0) {
            STATUS.getAndBitwiseAnd(this, ~clear);
        }
    }

    /** Device reset: InterruptStatus reads 0. */
    public void reset() {
        STATUS.setVolatile(this, 0);
    }

    /** Whether every source signals the slot's one wired interrupt. */
    public boolean wired() {
        return wired;
    }

    /** The eventfd that source {@code eventId} signals (in wired mode, the slot's one eventfd for every source). */
    public EventFd vector(int eventId) {
        return sources[eventId];
    }

    /** Sources: the queues and the configuration change. */
    public int vectorCount() {
        return sources.length;
    }

    public int configVector() {
        return configVector;
    }

    /** Interrupts signalled since creation (MSIs, or edges of the wired SPI). */
    public long signalled() {
        return signalled.sum();
    }
}
