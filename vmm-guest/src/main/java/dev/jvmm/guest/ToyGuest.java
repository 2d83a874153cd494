package dev.jvmm.guest;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestCpu;
import dev.jvmm.core.vcpu.GuestProgram;
import dev.jvmm.core.vcpu.SystemRegister;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The toy guest: a small operating system that runs on the vCPUs with nothing but guest RAM, trapped MMIO, the GIC
 * CPU-interface system registers and WFI, the way a kernel runs on the {@code virt} machine.
 *
 * <pre>
 *  vCPU 0 (boot):  report page ─ GIC: distributor, redistributors (PROPBASER/PENDBASER, EnableLPIs), ITS (tables,
 *                  CBASER, enable, MAPC per vCPU) ─ per NIC: probe, negotiate, queues, MAPD + MAPTI of its EventIDs
 *                  to LPIs on vCPU (nic % vcpus), or for a NIC without an MSI parent its wired SPI (edge, routed
 *                  to that vCPU) ─ DRIVER_OK ─ ARP for the gateway ─ "booted"
 *  vCPU n > 0:     wait for "booted"
 *  every vCPU:     ICC_PMR_EL1, ICC_IGRPEN1_EL1 ─ loop { WFI; while (IAR1 != 1023) { dispatch; EOIR1 } }
 * </pre>
 *
 * <p>An LPI names its queue. A wired SPI is shared by the NIC's queues and its configuration change, so its handler
 * does what Linux's {@code vm_interrupt} does: read InterruptStatus, write it back to InterruptACK, then act on the
 * bits read (the configuration, and every queue for a used buffer). Acknowledging before walking the rings is what
 * keeps every notification: one that lands after the read either finds its bit already read (its used entries are in
 * the rings walked next) or sets it anew with an edge of its own, which the GIC keeps pending until this handler's
 * EOI (see vmm-net's {@code VirtioInterrupts}).
 *
 * <p>Programs and options: {@link ToyGuestConfig} (the {@code guest} section). A NIC that reports
 * DEVICE_NEEDS_RESET is reset and brought up again.
 *
 * <pre>{@code
 * Machine.builder(config) ... .guest(ToyGuest.programs(config.get(ToyGuestConfig.SECTION), platform))
 * }</pre>
 *
 * <p>The guest's private bookkeeping (its interrupt table, driver state) lives in this object, which plays the
 * guest kernel's own memory; everything it shares with devices (rings, buffers, GIC tables, the command queue, the
 * report page) lives in guest RAM.
 */
public final class ToyGuest {
    private static final long BOOT_TIMEOUT_NANOS = 30_000_000_000L;

    private final GuestPlatform platform;
    private final String program;
    private final boolean iperf;
    private final int queueSizeLimit;
    private final long workNanos;
    private final long resetAfter;
    /** INTID - 8192 -> handler; written by the boot vCPU before "booted" is published. */
    private volatile Handler[] handlers = new Handler[0];
    /** INTID - 32 -> handler of a wired NIC's SPI; published with {@link #handlers}. */
    private volatile Handler[] spiHandlers = new Handler[0];
    private final long[] interruptsPerVcpu;
    private final long bootFlag;

    /** What an interrupt means to the guest: an LPI's EventID, or {@link #WIRED} for a NIC's SPI. */
    private record Handler(int vcpu, VirtioNetDriver nic, UdpApplication app, int event, long[] irqs) {
    }

    /** The event of a wired NIC's SPI: every source at once, told apart by InterruptStatus. */
    private static final int WIRED = -1;

    private ToyGuest(ToyGuestConfig config, GuestPlatform platform) {
        this.platform = platform;
        this.program = config.program();
        this.iperf = config.iperfSequence();
        this.queueSizeLimit = config.queueSize();
        this.workNanos = config.workPerFrameNanos();
        this.resetAfter = config.resetAfter();
        this.interruptsPerVcpu = new long[platform.vcpus()];
        this.bootFlag = GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_ONLINE + 4;
    }

    /**
     * The per-vCPU programs of the guest that {@code config} names, on the machine {@code platform} describes. The
     * function is asked once per vCPU; every vCPU runs the same guest (vCPU 0 boots it).
     */
    public static IntFunction<GuestProgram> programs(ToyGuestConfig config, GuestPlatform platform) {
        if (!ToyGuestConfig.PROGRAMS.contains(config.program())) {
            throw new IllegalArgumentException("unknown guest program '" + config.program() + "'; known programs are "
                    + String.join(", ", ToyGuestConfig.PROGRAMS));
        }
        ToyGuest guest = new ToyGuest(config, platform);
        return vcpu -> cpu -> guest.run(cpu);
    }

    private void run(GuestCpu cpu) {
        try {
            if (cpu.index() == 0) {
                boot(cpu);
            } else {
                waitForBoot(cpu);
            }
            GicDriver.initCpuInterface(cpu);
            online(cpu.memory());
            interruptLoop(cpu);
        } catch (GuestPanic p) {
            panic(cpu.memory(), p.getMessage());
        } catch (dev.jvmm.core.memory.GuestMemoryException e) {
            panic(cpu.memory(), "bad memory access: " + e.getMessage());
        }
    }

    private void boot(GuestCpu cpu) {
        GuestMemory ram = cpu.memory();
        GuestOs.zero(ram, GuestReportDescriptor.BASE, GuestReportDescriptor.SIZE);
        ram.write32(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_VERSION, GuestReportDescriptor.VERSION);
        ram.storeRelease32(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_MAGIC, GuestReportDescriptor.MAGIC);

        GuestAllocator alloc = new GuestAllocator(platform.ram(), GuestReportDescriptor.SIZE);
        GicDriver gic = new GicDriver(cpu, alloc, platform);
        gic.init();
        Handler[] table = new Handler[0];
        Handler[] spis = new Handler[0];
        if (!program.equals("idle")) {
            List<GuestPlatform.Nic> nics = platform.nics();
            VirtioNetDriver[] drivers = new VirtioNetDriver[nics.size()];
            UdpApplication[] apps = new UdpApplication[nics.size()];
            for (int i = 0; i < nics.size(); i++) {
                GuestPlatform.Nic n = nics.get(i);
                VirtioNetDriver d = new VirtioNetDriver(cpu, n, queueSizeLimit);
                if (!d.probe()) {
                    throw new GuestPanic("no virtio-net device answers at 0x" + Long.toHexString(n.mmioBase()));
                }
                d.init(alloc);
                int target = i % platform.vcpus();
                UdpApplication app = new UdpApplication(cpu, d, program.equals("udp-echo")
                        ? UdpApplication.Mode.ECHO : UdpApplication.Mode.SINK, iperf, workNanos, resetAfter);
                long[] irqs = new long[1];
                if (n.msi()) {
                    int first = gic.mapDevice(n.its(), n.deviceId(), d.eventCount(), target);
                    int need = first - GicDriver.FIRST_LPI + d.eventCount();
                    if (table.length < need) {
                        table = java.util.Arrays.copyOf(table, need);
                    }
                    for (int e = 0; e < d.eventCount(); e++) {
                        table[first - GicDriver.FIRST_LPI + e] = new Handler(target, d, app, e, irqs);
                    }
                } else {
                    gic.configureSpi(n.intid(), target);
                    int slot = n.intid() - GicDriver.FIRST_SPI;
                    if (spis.length <= slot) {
                        spis = java.util.Arrays.copyOf(spis, slot + 1);
                    }
                    if (spis[slot] != null) {
                        throw new GuestPanic("two NICs share SPI " + n.intid());
                    }
                    spis[slot] = new Handler(target, d, app, WIRED, irqs);
                }
                drivers[i] = d;
                apps[i] = app;
            }
            handlers = table;
            spiHandlers = spis;
            ram.storeRelease32(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_NICS, nics.size());
            for (int i = 0; i < drivers.length; i++) {
                drivers[i].start();
                apps[i].resolveGateway();
                apps[i].publish();
            }
        }
        ram.storeRelease32(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_STATE, GuestReport.STATE_RUNNING);
        ram.storeRelease32(bootFlag, 1);
    }

    private void waitForBoot(GuestCpu cpu) {
        GuestMemory ram = cpu.memory();
        long start = cpu.counterNanos();
        // A secondary CPU spins on a flag in RAM, as on a spin-table boot.
        while (!isBooted(ram)) {
            if (ram.loadAcquire32(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_MAGIC) == GuestReportDescriptor.MAGIC
                    && ram.loadAcquire32(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_STATE) == GuestReport.STATE_PANICKED) {
                throw new GuestPanic(null);
            }
            if (cpu.counterNanos() - start > BOOT_TIMEOUT_NANOS) {
                throw new GuestPanic("vCPU " + cpu.index() + " timed out waiting for the boot vCPU");
            }
            cpu.checkpoint();
            Thread.onSpinWait();
        }
    }

    private boolean isBooted(GuestMemory ram) {
        return ram.loadAcquire32(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_MAGIC) == GuestReportDescriptor.MAGIC
                && ram.loadAcquire32(bootFlag) == 1;
    }

    private static void online(GuestMemory ram) {
        long at = GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_ONLINE;
        int n;
        do {
            n = ram.loadAcquire32(at);
        } while (!ram.compareAndSet32(at, n, n + 1));
    }

    private void interruptLoop(GuestCpu cpu) {
        GuestMemory ram = cpu.memory();
        int me = cpu.index();
        long counter = GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_VCPU_IRQS + 8L * Math.min(me, GuestReportDescriptor.MAX_VCPUS - 1);
        Handler[] table = handlers;
        Handler[] spis = spiHandlers;
        while (true) {
            cpu.waitForInterrupt();
            int intid;
            while ((intid = (int) cpu.readSystemRegister(SystemRegister.ICC_IAR1_EL1)) != SystemRegister.SPURIOUS_INTID) {
                interruptsPerVcpu[me]++;
                ram.storeRelease64(counter, interruptsPerVcpu[me]);
                int slot = intid - GicDriver.FIRST_LPI;
                int spi = intid - GicDriver.FIRST_SPI;
                if (slot >= 0 && slot < table.length && table[slot] != null) {
                    dispatch(table[slot]);
                } else if (spi >= 0 && spi < spis.length && spis[spi] != null) {
                    dispatch(spis[spi]);
                }
                cpu.writeSystemRegister(SystemRegister.ICC_EOIR1_EL1, intid);
            }
        }
    }

    private static void dispatch(Handler h) {
        h.irqs()[0]++;
        h.app().countInterrupt(h.irqs()[0]);
        if (h.event() == WIRED) {
            dispatchWired(h);
        } else if (h.event() == VirtioNetDriver.RX_QUEUE) {
            receive(h);
        } else if (h.event() == VirtioNetDriver.TX_QUEUE) {
            h.nic().reclaimTransmitted();
        } else if (h.event() == h.nic().configEvent() && h.nic().configChanged()) {
            // DEVICE_NEEDS_RESET: the device gave up on our rings (virtio 1.x, 2.1.2). Reset and start again.
            h.nic().reinitialize();
            h.app().publish();
        }
    }

    private static void receive(Handler h) {
        h.nic().receive(h.app());
        if (h.app().takeResetRequest()) {
            h.nic().reinitialize();
        }
        // The counters of the whole batch, published once.
        h.app().publish();
    }

    /** A wired NIC's SPI, as Linux's {@code vm_interrupt}: read InterruptStatus, acknowledge it, then act on it. */
    private static void dispatchWired(Handler h) {
        VirtioNetDriver nic = h.nic();
        int isr = nic.interruptStatus();
        nic.acknowledgeInterrupt(isr);
        if ((isr & VirtioNetDriver.INT_CONFIG) != 0 && nic.needsReset()) {
            // DEVICE_NEEDS_RESET (virtio 1.x, 2.1.2): the rings are gone; start again.
            nic.reinitialize();
            h.app().publish();
            return;
        }
        if ((isr & VirtioNetDriver.INT_USED_BUFFER) != 0) {
            // One bit for every queue: walk them all (vm_interrupt calls vring_interrupt on each).
            receive(h);
            nic.reclaimTransmitted();
        }
    }

    private static void panic(GuestMemory ram, String message) {
        if (message == null) {
            return;   // another vCPU panicked first; its message stands
        }
        try {
            byte[] text = message.getBytes(StandardCharsets.UTF_8);
            int len = Math.min(text.length, GuestReportDescriptor.MAX_PANIC);
            ram.write(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_PANIC_TEXT, text, 0, len);
            ram.storeRelease32(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_PANIC_LEN, len);
            ram.storeRelease32(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_STATE, GuestReport.STATE_PANICKED);
            ram.storeRelease32(GuestReportDescriptor.BASE + GuestReportDescriptor.OFF_MAGIC, GuestReportDescriptor.MAGIC);
        } catch (dev.jvmm.core.memory.GuestMemoryException ignored) {
            // RAM too small for even the report page: nothing left to say it with.
        }
    }
}
