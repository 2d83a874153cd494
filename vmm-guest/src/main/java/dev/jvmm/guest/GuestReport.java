package dev.jvmm.guest;

import static dev.jvmm.guest.GuestReportDescriptor.*;

import dev.jvmm.core.memory.GuestMemory;

import java.nio.charset.StandardCharsets;

/**
 * The toy guest's report page as the host reads it (the layout: {@link GuestReportDescriptor}): the guest updates
 * each counter with a release store; the host reads with acquire loads, never asking the guest through a Java
 * reference.
 */
public final class GuestReport {
    /** Counters of a NIC block, by index (offset = 8 * ordinal); {@link GuestReportDescriptor} says what each counts. */
    public enum Counter {
        FRAMES, BYTES, LOST, REORDERED, BAD, CRC_SUM, ECHOED, IRQS, OTHER, TX_DROPS, IPERF_FIN, RESETS, DISCARDED,
        IPERF, NOT_IPERF
    }

    public static final int STATE_BOOTING = 0;
    public static final int STATE_RUNNING = 1;
    public static final int STATE_PANICKED = 2;

    private final GuestMemory memory;

    /** A reader of the report in {@code memory}. */
    public GuestReport(GuestMemory memory) {
        this.memory = memory;
    }

    static long nicCounter(int nic, Counter c) {
        return BASE + OFF_NIC_BLOCKS + nic * NIC_BLOCK + 8L * c.ordinal();
    }

    /** Whether the guest has written its report header (it has booted far enough). */
    public boolean present() {
        return !memory.isClosed() && memory.loadAcquire32(BASE + OFF_MAGIC) == MAGIC;
    }

    /** {@link #STATE_BOOTING}, {@link #STATE_RUNNING} or {@link #STATE_PANICKED}. */
    public int state() {
        return present() ? memory.loadAcquire32(BASE + OFF_STATE) : STATE_BOOTING;
    }

    public int nics() {
        return present() ? memory.loadAcquire32(BASE + OFF_NICS) : 0;
    }

    public int vcpusOnline() {
        return present() ? memory.loadAcquire32(BASE + OFF_ONLINE) : 0;
    }

    public long counter(int nic, Counter c) {
        return present() ? memory.loadAcquire64(nicCounter(nic, c)) : 0;
    }

    /** A counter summed over every NIC. */
    public long total(Counter c) {
        long t = 0;
        for (int i = 0; i < nics(); i++) {
            t += counter(i, c);
        }
        return t;
    }

    public long vcpuInterrupts(int vcpu) {
        return present() ? memory.loadAcquire64(BASE + OFF_VCPU_IRQS + 8L * vcpu) : 0;
    }

    /**
     * Waits until the guest has booted on {@code machine} (the report says running with every vCPU online) and
     * returns; throws {@link GuestFailure} with the guest's panic message or a vCPU's fault, or when it does not boot
     * within {@code timeout}.
     */
    public void awaitRunning(dev.jvmm.core.machine.Machine machine, java.time.Duration timeout) {
        int vcpus = machine.vcpus().size();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int s = state();
            if (s == STATE_RUNNING && vcpusOnline() == vcpus) {
                return;
            }
            if (s == STATE_PANICKED) {
                throw new GuestFailure("the guest panicked: " + panicMessage());
            }
            java.util.List<String> faults = machine.vcpuFaults();
            if (!faults.isEmpty()) {
                throw new GuestFailure("a vCPU faulted: " + faults.get(0));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new GuestFailure("the guest did not boot within " + timeout.toSeconds() + "s");
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GuestFailure("interrupted while the guest booted");
            }
        }
    }

    /** The guest's panic message, or null. */
    public String panicMessage() {
        if (state() != STATE_PANICKED) {
            return null;
        }
        int len = Math.min(memory.loadAcquire32(BASE + OFF_PANIC_LEN), MAX_PANIC);
        byte[] b = new byte[Math.max(0, len)];
        memory.read(BASE + OFF_PANIC_TEXT, b, 0, b.length);
        return new String(b, StandardCharsets.UTF_8);
    }
}
