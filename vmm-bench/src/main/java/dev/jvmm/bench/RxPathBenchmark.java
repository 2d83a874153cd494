package dev.jvmm.bench;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.gic.GicConfig;
import dev.jvmm.core.config.IrqConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.irq.IrqStats;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.GicV3;
import dev.jvmm.gic.LpiTableDescriptor;
import dev.jvmm.gic.guest.GicDriver;
import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.gic.guest.ItsCommandQueue;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.NicStats;
import dev.jvmm.net.RxStatus;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.net.testing.GuestAllocator;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.RxRing;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * One UDP datagram's trip through the virtio-net receive path into guest buffers, without sockets: the device's
 * backend-facing {@link NetBackend.Guest#receive} with a reusable buffer, the interrupt decision and its MSI through
 * the irqfd into the GIC, and a guest-side driver that takes the interrupt and re-posts the buffer.
 *
 * <pre>
 *  benchmark thread, which plays three parts in turn:
 *   backend    guest.receive(eth+ipv4+udp headers[42], payload ByteBuf, ...)   copy into the posted guest buffer
 *              guest.receiveComplete()              EVENT_IDX decision ─▶ EventFd ─▶ irqfd ─▶ GIC cached path:
 *                                                                                    LPI 8192 pending at vCPU 0
 *   vCPU 0     ICC_IAR1_EL1 / ICC_EOIR1_EL1         takes the LPI
 *   driver     reap the used entry, re-post its buffer, re-arm used_event   (QueueNotify only if asked)
 * </pre>
 *
 * <h2>How it avoids sockets and threads</h2>
 * The NIC runs on the event loop of a Netty {@link EmbeddedChannel}, which counts every thread as "in the loop":
 * the benchmark thread calls the device's backend interface directly, as the {@code udp} backend's read handler does
 * on a real event loop, and any task the device queues (activation, a doorbell) runs when the benchmark thread
 * calls {@code runPendingTasks()}. The backend is a stand-in ({@link SyntheticBackend}) that hands the device what
 * the {@code udp} backend would: a 42-byte header array synthesized once (Ethernet to the guest's MAC, IPv4 with a
 * valid checksum, UDP with checksum 0, which UDP over IPv4 allows) and the payload in one of the NIC's own frame
 * buffers, reused for every datagram. The machine around it is real: guest RAM, the MMIO bus, the GICv3 (per-its
 * cache) with the NIC's (DeviceID 0, EventID 0) mapped to LPI 8192 by ITS commands, the irqfd and the router in
 * inline mode. The vCPU thread has nothing to run; the benchmark thread takes the interrupts through vCPU 0's
 * system registers.
 *
 * <h2>Methods</h2>
 * <ul>
 *   <li>{@code datagram}: one datagram, one interrupt decision, one MSI, one reap: the worst case for the
 *       interrupt path, a guest that wants an interrupt per frame.</li>
 *   <li>{@code batchOf16}: 16 datagrams, then one {@code receiveComplete} (the {@code udp} backend decides once per
 *       read loop of up to 16 datagrams), one MSI, one reap of 16: reported per datagram
 *       ({@code @OperationsPerInvocation(16)}).</li>
 * </ul>
 *
 * <h2>Reading the figures</h2>
 * The score is nanoseconds per datagram, the guest's reap and the interrupt included; {@code 1e9 / score} is the
 * rate one core could sustain through the device. With {@code -prof gc}, {@code gc.alloc.rate.norm} is bytes per
 * datagram allocated by every thread: the target is 0 in steady state. The tear-down checks that every
 * datagram was delivered and reaped and every MSI taken, and prints the NIC's counters (the doorbells after start-up
 * are the one-in-65,536 wrap of the avail index, see {@link RxRing}) and the bytes allocated by the threads on
 * the path over the measured iterations ({@link ThreadAllocation}).
 *
 * <h2>Run</h2>
 * <pre>
 *  java -jar vmm-bench/target/benchmarks.jar RxPath -prof gc -f 1 -wi 3 -i 5
 *  java -jar vmm-bench/target/benchmarks.jar 'RxPathBenchmark.batchOf16' -p payload=64
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
@Threads(1)
@State(Scope.Benchmark)
public class RxPathBenchmark {
    private static final int QUEUE_SIZE = 256;
    /** 12-byte virtio-net header + the largest Ethernet frame without VLAN tag (1514). */
    private static final int BUFFER_SIZE = 12 + 1514;
    private static final int HEADERS = 14 + 20 + 8;
    private static final int RX_INTID = LpiTableDescriptor.FIRST_LPI;
    /** The driver's rings and buffers (the test kit's RxRing): 1 MiB into RAM, below the GIC's arena. */
    private static final long LAYOUT = MemoryMap.RAM_BASE + (1L << 20);
    private static final long LAYOUT_END = MemoryMap.RAM_BASE + (16L << 20);
    private static final long GIC_ARENA = MemoryMap.RAM_BASE + (16L << 20);
    private static final long GIC_ARENA_SIZE = 32L << 20;
    private static final int FLOW_HASH = 0x5EED;

    /** UDP payload bytes per datagram: 64 (the seed's iperf setting) or 1472 (a full 1500-byte IPv4 packet). */
    @Param({"64", "1472"})
    public int payload;

    private EmbeddedChannel channel;
    private Machine machine;
    private VirtioNetDevice nic;
    private SyntheticBackend backend;
    private NetBackend.Guest guest;
    private GicV3 gic;
    private RxRing driver;
    private ByteBuf body;
    private final byte[] headers = new byte[HEADERS];
    private long failures;
    private long interruptsTaken;
    private long datagrams;
    private long datagramsAtMark;
    private ThreadAllocation allocation;

    /** A backend that only captures the device's interface; nothing else reaches it in this benchmark. */
    static final class SyntheticBackend implements NetBackend {
        volatile Guest guest;
        long receiveReady;

        @Override
        public void start(Guest g) {
            guest = g;
        }

        @Override
        public void receiveReady() {
            receiveReady++;
        }
    }

    /** Builds and starts the machine, maps the NIC's MSI, brings the NIC up and warms the path. */
    @Setup(Level.Trial)
    public void boot() throws Exception {
        channel = new EmbeddedChannel();
        backend = new SyntheticBackend();
        NicConfig nicConfig = NicConfig.builder(0).listen(0).guestPort(5001).queueSize(QUEUE_SIZE).mrgRxbuf(false)
                .build();
        VmConfig config = VmConfig.builder().vcpus(1).memorySize(64L << 20)
                .with(GicConfig.SECTION, GicConfig.defaults().withCache(CacheStrategy.PER_ITS))
                .irq(new IrqConfig(InjectionMode.INLINE, 0, 0))
                .with(NicConfig.SECTION, List.of(nicConfig)).build();
        machine = Machine.builder(config)
                .name("rx-bench")
                .interruptController(GicV3::create)
                .devices(ctx -> List.of(VirtioNetDevice.create(ctx, nicConfig, channel.eventLoop(), backend)))
                .guest(vcpu -> cpu -> { })   // the benchmark thread is the guest
                .build();
        machine.start();
        gic = (GicV3) machine.interruptController();
        nic = machine.device(VirtioNetDevice.class);
        guest = backend.guest;
        mapNicInterrupts(nicConfig.deviceId(), nic.configEventId() + 1);

        Random fixed = new Random(0);
        driver = new NetDriver(GuestAccess.of(machine.bus(), machine.memory()), nic.mmioBase(), fixed,
                new GuestAllocator(machine.memory(), fixed, 0, LAYOUT, LAYOUT_END))
                .startRxRing(QUEUE_SIZE, BUFFER_SIZE, 1);
        channel.runPendingTasks();   // activation, then the doorbell
        if (guest.receiveRoom() < QUEUE_SIZE) {
            throw new IllegalStateException("the device sees " + guest.receiveRoom() + " receive buffers, not "
                    + QUEUE_SIZE);
        }

        fillHeaders(nicConfig);
        body = guest.frameBuffer();
        for (int i = 0; i < payload; i++) {
            body.writeByte((byte) (i * 7 + 1));
        }
        // The first MSI misses the translation cache and reaches the GIC through the injector thread; wait for it.
        // After that every MSI hits, and is pending before receiveComplete returns.
        receiveOne();
        guest.receiveComplete();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (takeInterrupts() == 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the first receive interrupt never arrived");
            }
            Thread.onSpinWait();
        }
        driver.reap();
        checkFirstFrame();
        for (int i = 0; i < 10_000; i++) {
            datagram();
        }
    }

    /** The guest's GIC driver work, from this thread through the bus: every NIC EventID to an LPI on vCPU 0. */
    private void mapNicInterrupts(int deviceId, int events) {
        GicDriver d = new GicDriver(GuestAccess.of(machine.bus(), machine.memory()), 1, 1, GIC_ARENA,
                GIC_ARENA_SIZE);
        d.initDistributor();
        d.initLpiTables(true);
        d.enableLpis(0);
        gic.writeSystemRegister(0, SystemRegister.ICC_PMR_EL1, 0xFF);
        gic.writeSystemRegister(0, SystemRegister.ICC_IGRPEN1_EL1, 1);
        ItsCommandQueue its = d.initIts(0, 1);
        its.mapc(0, 0, true);
        int bits = Math.max(1, 32 - Integer.numberOfLeadingZeros(events - 1));
        its.mapd(deviceId, bits, d.allocateItt(bits), true);
        for (int e = 0; e < events; e++) {
            d.setConfig(RX_INTID + e, LpiTableDescriptor.CONFIG_DEFAULT);
            its.mapti(deviceId, e, RX_INTID + e, 0);
        }
        its.sync(0);
        if (!its.drained()) {
            throw new IllegalStateException("the ITS did not run the NIC's mapping commands");
        }
    }

    /**
     * Ethernet (guest MAC from the gateway's, IPv4), IPv4 (gateway 10.0.2.2 to the guest, valid header checksum)
     * and UDP (port 40000 to the guest port, checksum 0: none) headers, as the {@code udp} backend synthesizes
     * them. Written once: the benchmark measures the device, not the backend's checksum.
     */
    private void fillHeaders(NicConfig n) {
        byte[] h = headers;
        for (int i = 0; i < 6; i++) {
            h[i] = n.mac().get(i);
        }
        byte[] gw = n.gatewayIp().getAddress();
        byte[] me = n.guestIp().getAddress();
        h[6] = 0x52;
        h[7] = 0x55;
        System.arraycopy(gw, 0, h, 8, 4);
        put16(h, 12, 0x0800);
        int ip = 14;
        h[ip] = 0x45;
        put16(h, ip + 2, 20 + 8 + payload);
        h[ip + 8] = 64;
        h[ip + 9] = 17;
        System.arraycopy(gw, 0, h, ip + 12, 4);
        System.arraycopy(me, 0, h, ip + 16, 4);
        long sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += ((h[ip + i] & 0xFF) << 8) | (h[ip + i + 1] & 0xFF);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        put16(h, ip + 10, (int) ~sum & 0xFFFF);
        int udp = ip + 20;
        put16(h, udp, 40000);
        put16(h, udp + 2, n.guestPort());
        put16(h, udp + 4, 8 + payload);
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    /** The first delivered frame must be exactly header | headers | payload in the guest's buffer. */
    private void checkFirstFrame() {
        int expected = 12 + HEADERS + payload;
        if (driver.lastLength() != expected) {
            throw new IllegalStateException("used length " + driver.lastLength() + ", expected " + expected);
        }
        long at = driver.buffer(driver.usedId(0)) + 12;
        byte[] frame = new byte[HEADERS + payload];
        machine.memory().read(at, frame, 0, frame.length);
        for (int i = 0; i < HEADERS; i++) {
            if (frame[i] != headers[i]) {
                throw new IllegalStateException("header byte " + i + " differs in guest memory");
            }
        }
        for (int i = 0; i < payload; i++) {
            if (frame[HEADERS + i] != body.getByte(i)) {
                throw new IllegalStateException("payload byte " + i + " differs in guest memory");
            }
        }
    }

    private void receiveOne() {
        RxStatus s = guest.receive(headers, 0, HEADERS, body, body.readerIndex(), payload, FLOW_HASH);
        if (s != RxStatus.DELIVERED) {
            failures++;
        }
        datagrams++;
    }

    /** At the first measured iteration: counts what this thread and the injector allocate from now on. */
    @Setup(Level.Iteration)
    public void markMeasurement(IterationParams iteration) {
        if (iteration.getType() == IterationType.MEASUREMENT && allocation == null) {
            List<Thread> threads = new ArrayList<>();
            threads.add(Thread.currentThread());
            threads.add(machine.irqRouter().injectorThread());
            machine.vcpus().forEach(v -> threads.add(v.thread()));
            allocation = new ThreadAllocation(threads);
            allocation.start();
            datagramsAtMark = datagrams;
        }
    }

    /** vCPU 0's interrupt handler: every pending LPI taken and ended. Returns how many. */
    private int takeInterrupts() {
        int n = 0;
        int intid;
        while ((intid = (int) gic.readSystemRegister(0, SystemRegister.ICC_IAR1_EL1)) != SystemRegister.SPURIOUS_INTID) {
            gic.writeSystemRegister(0, SystemRegister.ICC_EOIR1_EL1, intid);
            if (intid != RX_INTID) {
                failures++;
            }
            n++;
        }
        interruptsTaken += n;
        return n;
    }

    /**
     * The guest's poll: reap and re-post; runs the device's doorbell task if the driver rang (once per 65,536
     * buffers, when the avail index wraps past the device's stale avail_event; see {@link RxRing}).
     */
    private int poll() {
        long rang = driver.doorbells();
        int n = driver.reap();
        if (driver.doorbells() != rang) {
            channel.runPendingTasks();
        }
        return n;
    }

    /** One datagram into the guest, its interrupt taken, its buffer re-posted. */
    @Benchmark
    public int datagram() {
        receiveOne();
        guest.receiveComplete();
        return takeInterrupts() + poll();
    }

    /** Sixteen datagrams, one interrupt decision, one interrupt, one reap. */
    @Benchmark
    @OperationsPerInvocation(16)
    public int batchOf16() {
        for (int i = 0; i < 16; i++) {
            receiveOne();
        }
        guest.receiveComplete();
        return takeInterrupts() + poll();
    }

    /** Checks the run, prints the NIC's counters, stops the machine and releases the buffer. */
    @TearDown(Level.Trial)
    public void close() {
        if (allocation != null) {
            allocation.stop();
        }
        try {
            NicStats s = nic.stats();
            IrqStats irq = machine.irqRouter().stats();
            System.out.printf(Locale.ROOT, "%n[rx] payload %d: %,d delivered, %,d reaped, %,d MSIs signalled, %,d "
                            + "taken (fast path %,d, slow path %,d), notifications suppressed %,d, doorbells after "
                            + "start %d, dropped (no buffer) %d%n",
                    payload, s.rxDelivered(), driver.reaped(), s.msisSignalled(), interruptsTaken, irq.fastPath(),
                    irq.slowPath(), s.notificationsSuppressed(), driver.doorbells() - 1, s.rxDroppedNoBuffer());
            if (allocation != null) {
                System.out.printf("[rx] payload %d: %s%n", payload, allocation.describe(datagrams - datagramsAtMark));
            }
            if (failures != 0) {
                throw new IllegalStateException(failures + " datagrams not delivered or wrong INTIDs taken");
            }
            if (s.rxDelivered() != driver.reaped() || s.msisSignalled() != interruptsTaken) {
                throw new IllegalStateException("the guest did not see every datagram or interrupt: " + s);
            }
        } finally {
            body.release();
            machine.stop();
            channel.finishAndReleaseAll();
        }
    }
}
