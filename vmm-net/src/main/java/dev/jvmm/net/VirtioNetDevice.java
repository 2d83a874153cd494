package dev.jvmm.net;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.event.EventFd;
import dev.jvmm.core.irq.IrqFd;
import dev.jvmm.core.irq.IrqRouter;
import dev.jvmm.core.irq.IrqchipRoute;
import dev.jvmm.core.irq.MsiRoute;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.core.machine.MachineContext;
import dev.jvmm.core.machine.MachineDevice;
import dev.jvmm.core.machine.MachineException;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.net.virtio.VirtioInterrupts;
import dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor;
import dev.jvmm.net.virtio.VirtioMmioTransport;
import dev.jvmm.net.virtio.VirtqError;
import io.netty.channel.EventLoop;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One virtio-net NIC: a virtio-mmio version 2 window on the MMIO bus, a virtio-net device behind it, and a host
 * backend fed by a Netty event loop; its interrupts are MSIs, or its slot's wired SPI, raised through irqfds.
 *
 * <pre>
 *   guest driver ── MMIO 0x0A00_0000 + slot * 0x200 ──▶ VirtioMmioTransport ──▶ VirtioNet ──▶ NetBackend ──▶ host
 *                                                                                  │
 *   msi:   ITS ◀── MSI (DeviceID = nic.deviceId, EventID) ◀── irqfd ◀── EventFd.signal() ◀┤
 *   wired: distributor ◀── edge on SPI 16 + slot ◀── irqfd (irqchip route) ◀── EventFd.signal() ◀┘
 * </pre>
 *
 * <h2>Interrupt mode</h2>
 * {@link NicConfig#interrupt()} chooses. A board tells a guest with its device tree: every slot's node has
 * {@code interrupts = <0 16+slot 1>} ({@link #wiredIntid()}), and a NIC in MSI mode adds
 * {@code msi-parent = <&its DEVICEID>} ({@link #msiTarget()}). In wired mode every source shares the slot's SPI and
 * the guest learns the reason from InterruptStatus (see {@link VirtioInterrupts} for edge versus level).
 *
 * <h2>Interrupts: the EventID of each source</h2>
 * Every NIC has the DeviceID {@link NicConfig#deviceId()} on the MSI controller {@link NicConfig#its()}; the
 * interrupt controller hands it the doorbell its MSIs write ({@link MachineContext#msiTarget}), so the NIC never
 * computes a controller's address. Each virtqueue's used-buffer notification is its own EventID, equal to the queue
 * index;
 * the configuration-change interrupt (link changes, DEVICE_NEEDS_RESET) comes last:
 * <pre>
 *   EventID 0            receiveq1           EventID 2p        receiveq(p+1)
 *   EventID 1            transmitq1          EventID 2p+1      transmitq(p+1)
 *   EventID 2P           controlq (P = queue pairs > 1 only; with CTRL_VQ but not MQ the control queue is
 *                        queue 2, EventID 2)
 *   EventID {@link #configEventId()}  configuration change = the number of queues (2 for one pair, 2P+1)
 * </pre>
 * A guest driver maps each (DeviceID, EventID) to an LPI with MAPTI. InterruptStatus is set before each MSI, as
 * before each edge of the wired SPI.
 *
 * <h2>Features offered</h2>
 * VIRTIO_F_VERSION_1, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS (link up), VIRTIO_NET_F_MTU (the backend's MTU),
 * VIRTIO_NET_F_MRG_RXBUF when {@link NicConfig#mrgRxbuf()}, VIRTIO_NET_F_CTRL_VQ and VIRTIO_NET_F_MQ when {@link NicConfig#queuePairs()} &gt; 1.
 * No checksum or segmentation offloads.
 *
 * <h2>Lifecycle</h2>
 * Created (and registered on the bus, interrupt routes bound) when the machine is built; {@link #start()} binds the
 * backend's socket; {@link #pause()}/{@link #resume()} stop and restart reading host input; {@link #close()} closes
 * the socket, waits until the event loop no longer touches guest memory for this NIC, unbinds its interrupts, and
 * releases the event loop group (the last NIC shuts it down).
 */
public final class VirtioNetDevice implements MachineDevice {

    private final NicConfig nic;
    private final MmioBus bus;
    private final IrqRouter router;
    private final NetBackend backend;
    private final NicCounters counters = new NicCounters();
    private final VirtioInterrupts interrupts;
    private final VirtioNet net;
    private final VirtioMmioTransport transport;
    private final List<IrqFd> irqfds;
    private final Runnable release;
    private final EventLoop loop;
    private final MsiTarget msiTarget;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    private VirtioNetDevice(MachineContext ctx, NicConfig nic, NetConfig netConfig, EventLoop loop, NetBackend backend,
                            Runnable release, String configKey) {
        this.nic = nic;
        this.bus = ctx.bus();
        this.router = ctx.irqRouter();
        this.backend = backend;
        this.loop = loop;
        this.release = release;
        int queues = VirtioNet.maxQueueCount(nic.queuePairs());
        List<IrqFd> fds = new ArrayList<>(queues + 1);
        if (nic.wired()) {
            this.msiTarget = null;
            this.interrupts = bindWired(nic, queues, fds);
        } else {
            try {
                this.msiTarget = ctx.msiTarget(nic.its(), nic.deviceId());
            } catch (IllegalArgumentException ex) {
                throw ctx.config().source().error(configKey + ".its", ex.getMessage());
            }
            this.interrupts = bindMsis(nic, queues, fds);
        }
        this.irqfds = fds;
        this.net = new VirtioNet(nic, netConfig, ctx.memory(), loop, backend, interrupts, counters, ctx.failures());
        this.transport = new VirtioMmioTransport(net, ctx.memory(), interrupts);
        try {
            bus.register(nic.id(), mmioBase(), MemoryMap.VIRTIO_MMIO_STRIDE, transport);
        } catch (IllegalArgumentException ex) {
            net.close();
            unbind(fds);
            throw new MachineException("nic " + nic.id() + ": " + ex.getMessage(), ex);
        }
    }

    /** EventIDs 0..queues-1: the queues; EventID {@code queues}: the configuration change. One MSI route each. */
    private VirtioInterrupts bindMsis(NicConfig nic, int queues, List<IrqFd> fds) {
        EventFd[] vectors = new EventFd[queues + 1];
        try {
            for (int e = 0; e < vectors.length; e++) {
                vectors[e] = new EventFd(nic.id() + (e < queues ? "-q" + e : "-config"), false);
                MsiRoute route = router.addRoute(msiTarget, e);
                fds.add(router.bind(vectors[e], route.gsi()));
            }
        } catch (RuntimeException ex) {
            unbind(fds);
            throw new MachineException("nic " + nic.id() + ": cannot set up its MSIs: " + ex.getMessage(), ex);
        }
        return VirtioInterrupts.msi(vectors, queues);
    }

    /** One eventfd for every source, on an irqchip route to the slot's SPI ({@code KVM_IRQ_ROUTING_IRQCHIP}). */
    private VirtioInterrupts bindWired(NicConfig nic, int queues, List<IrqFd> fds) {
        EventFd line = new EventFd(nic.id() + "-spi", false);
        try {
            IrqchipRoute route = router.addIrqchipRoute(nic.wiredIntid());
            fds.add(router.bind(line, route.gsi()));
        } catch (RuntimeException ex) {
            unbind(fds);
            throw new MachineException("nic " + nic.id() + ": cannot wire its interrupt to INTID " + nic.wiredIntid()
                    + ": " + ex.getMessage(), ex);
        }
        return VirtioInterrupts.wired(line, queues);
    }

    /**
     * A NIC on {@code loop} with {@code backend}. The caller owns the loop (it is not shut down on close); the device
     * registers its MMIO window and MSI routes on {@code ctx} now. For NICs from the machine's configuration, use
     * {@link VirtioNetDevices}.
     */
    public static VirtioNetDevice create(MachineContext ctx, NicConfig nic, EventLoop loop, NetBackend backend) {
        return new VirtioNetDevice(ctx, nic, ctx.config().get(NetConfig.SECTION), loop, backend, () -> { },
                "nic " + nic.id());
    }

    static VirtioNetDevice create(MachineContext ctx, NicConfig nic, NetConfig net, EventLoop loop, NetBackend backend,
                                  Runnable release, String configKey) {
        return new VirtioNetDevice(ctx, nic, net, loop, backend, release, configKey);
    }

    // -------------------------------------------------------------------------------------------- lifecycle

    @Override
    public String name() {
        return nic.id();
    }

    /** Binds the backend's socket; a port in use throws {@link MachineException} naming the NIC and the address. */
    @Override
    public void start() {
        if (closed.get()) {
            throw new IllegalStateException("nic " + nic.id() + " is closed");
        }
        if (started.compareAndSet(false, true)) {
            backend.start(net);
        }
    }

    @Override
    public void pause() {
        if (started.get() && !closed.get()) {
            backend.pause();
        }
    }

    @Override
    public void resume() {
        if (started.get() && !closed.get()) {
            backend.resume();
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            backend.close();
        } finally {
            net.close();
            bus.unregister(transport);
            unbind(irqfds);
            release.run();
        }
    }

    private void unbind(List<IrqFd> fds) {
        for (IrqFd f : fds) {
            f.close();
            router.removeRoute(f.gsi());
        }
    }

    // -------------------------------------------------------------------------------------------- accessors

    public NicConfig config() {
        return nic;
    }

    /**
     * Where the NIC's MSIs go, as the interrupt controller handed it out: a device tree's
     * {@code msi-parent = <&its DEVICEID>}. Null for a NIC in wired mode, which raises no MSIs.
     */
    public MsiTarget msiTarget() {
        return msiTarget;
    }

    /** How the NIC interrupts the guest: MSIs, or its slot's wired SPI. */
    public NicConfig.NicInterrupt interrupt() {
        return nic.interrupt();
    }

    /**
     * The INTID of the slot's wired interrupt (SPI 16 + slot, edge rising, as QEMU's {@code virt} wires
     * virtio-mmio): what the NIC raises in wired mode, and what a device tree gives the slot's {@code interrupts}
     * in either mode.
     */
    public int wiredIntid() {
        return nic.wiredIntid();
    }

    /** The guest physical address of the NIC's virtio-mmio window. */
    public long mmioBase() {
        return MemoryMap.virtioSlot(nic.slot());
    }

    /** The size of the window. */
    public int mmioSize() {
        return VirtioMmioRegisterDescriptor.WINDOW_SIZE;
    }

    /** The host address the backend's socket is bound to (the actual port when the config asked for port 0). */
    public InetSocketAddress localAddress() {
        return backend.localAddress();
    }

    /** The receive buffer the kernel gave the backend's socket ({@link NetBackend#socketReceiveBuffer()}), or 0. */
    public int socketReceiveBuffer() {
        return backend.socketReceiveBuffer();
    }

    /** The bound host port, or -1 before {@link #start()}. */
    public int boundPort() {
        InetSocketAddress a = backend.localAddress();
        return a == null ? -1 : a.getPort();
    }

    /** The most queues this NIC can have (2 per pair, plus the control queue when several pairs are offered). */
    public int maxQueues() {
        return VirtioNet.maxQueueCount(nic.queuePairs());
    }

    /** The EventID of queue {@code queue}'s used-buffer interrupt: the queue index. */
    public int queueEventId(int queue) {
        if (queue < 0 || queue >= maxQueues()) {
            throw new IllegalArgumentException("nic " + nic.id() + " has no queue " + queue);
        }
        return queue;
    }

    /** The EventID of the configuration-change interrupt: {@link #maxQueues()}. */
    public int configEventId() {
        return maxQueues();
    }

    /** The feature bits the device offers (see the class documentation). */
    public long offeredFeatures() {
        return transport.offeredFeatures();
    }

    /** The feature bits the driver negotiated (0 before FEATURES_OK). */
    public long negotiatedFeatures() {
        return transport.negotiatedFeatures();
    }

    /** The Status register as the driver would read it. */
    public int status() {
        return transport.status();
    }

    /**
     * Sets the link state the configuration space reports (VIRTIO_NET_S_LINK_UP): a new ConfigGeneration and, once
     * the driver is running, a configuration-change interrupt. Frames still flow; this is what the guest is told.
     */
    public void setLinkUp(boolean up) {
        net.setLinkUp(up);
    }

    /** The NIC's counters, live. */
    public NicCounters counters() {
        return counters;
    }

    /** The I/O transport of the NIC's event loop (null for a loop that drives no sockets). */
    public IoTransport ioTransport() {
        return IoTransport.of(loop);
    }

    /** The event loop that runs this NIC. */
    public EventLoop eventLoop() {
        return loop;
    }

    /** A snapshot of the NIC's counters. */
    public NicStats stats() {
        NicCounters c = counters;
        VirtqError ring = net.lastRingError();
        String last = ring != null ? ring.name() : transport.lastError() != null ? transport.lastError().name() : null;
        return new NicStats(nic.id(),
                c.get(NicCounter.RX_DATAGRAMS), c.get(NicCounter.RX_BYTES), c.get(NicCounter.RX_DELIVERED),
                c.get(NicCounter.RX_DROPPED_NO_BUFFER), c.get(NicCounter.RX_DROPPED_TOO_BIG),
                c.get(NicCounter.RX_DROPPED_UNSUPPORTED), c.get(NicCounter.SOCKET_PAUSED),
                c.get(NicCounter.SOCKET_ERRORS), c.get(NicCounter.INTERNAL_ERRORS),
                c.get(NicCounter.TX_FRAMES), c.get(NicCounter.TX_BYTES), c.get(NicCounter.TX_DATAGRAMS),
                c.get(NicCounter.TX_MALFORMED), c.get(NicCounter.TX_DROPPED_NON_UDP),
                c.get(NicCounter.TX_DROPPED_UNKNOWN_PEER), c.get(NicCounter.TX_DROPPED_SOCKET_ERROR),
                c.get(NicCounter.TX_DROPPED_CLOSED), c.get(NicCounter.ARP_REPLIES),
                c.get(NicCounter.GUEST_ERRORS) + transport.errorsTotal(), c.get(NicCounter.DEVICE_ERRORS),
                c.get(NicCounter.GUEST_NOTIFIES),
                c.get(NicCounter.NOTIFICATIONS_SENT), c.get(NicCounter.NOTIFICATIONS_SUPPRESSED),
                interrupts.signalled(),
                (transport.status() & dev.jvmm.net.virtio.VirtioStatus.DEVICE_NEEDS_RESET) != 0, last);
    }

    /**
     * Frame buffers taken and not yet released (0 when nothing leaked): a leak check for tests and diagnostics.
     */
    public long frameBuffersOutstanding() {
        if (loop.inEventLoop()) {
            return net.frameBuffers().outstanding();
        }
        try {
            return loop.submit(() -> net.frameBuffers().outstanding()).get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("nic " + nic.id() + ": event loop did not answer", e);
        }
    }

    /** The transport's register-level error counts (for diagnostics and tests). */
    public VirtioMmioTransport transport() {
        return transport;
    }

    @Override
    public String toString() {
        return "VirtioNetDevice[" + nic.id() + ", slot " + nic.slot() + ", " + nic.backend().configName() + "]";
    }
}
