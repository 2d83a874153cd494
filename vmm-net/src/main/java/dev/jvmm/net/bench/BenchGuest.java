package dev.jvmm.net.bench;

import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestCpu;
import dev.jvmm.core.vcpu.GuestProgram;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.net.virtio.VirtioFeatures;
import dev.jvmm.net.virtio.VirtqLayout;

import static dev.jvmm.net.virtio.VirtioMmioRegisters.*;
import static dev.jvmm.net.virtio.VirtioStatus.*;
import static dev.jvmm.net.virtio.VirtqLayout.*;

/**
 * Guest code for the receive benchmark: a minimal receive-only virtio-net driver running on vCPU 0. It brings the
 * NIC up through MMIO, posts every receive buffer, then loops: wait for the interrupt (WFI), acknowledge it, reap the
 * used entries, post the buffers again, ring the doorbell only when the device asked (EVENT_IDX avail_event), and
 * re-arm the interrupt for the next {@code batch} entries (used_event), much as a NAPI poll would.
 *
 * <pre>
 *  RAM_BASE + 1 MiB: descriptor table │ available ring │ used ring │ N buffers of bufferSize bytes
 * </pre>
 */
final class BenchGuest implements GuestProgram {
    private static final long LAYOUT = MemoryMap.RAM_BASE + (1 << 20);

    private final long base;
    private final int size;
    private final int bufferSize;
    private final int batch;
    private volatile boolean stop;
    private volatile boolean ready;
    private volatile String failure;
    private volatile long reaped;
    private volatile long interrupts;
    private volatile long doorbells;

    BenchGuest(long mmioBase, int queueSize, int bufferSize, int batch) {
        this.base = mmioBase;
        this.size = queueSize;
        this.bufferSize = bufferSize;
        this.batch = batch;
    }

    void stop() {
        stop = true;
    }

    boolean isReady() {
        return ready;
    }

    String failure() {
        return failure;
    }

    long reaped() {
        return reaped;
    }

    long interrupts() {
        return interrupts;
    }

    long doorbells() {
        return doorbells;
    }

    @Override
    public void run(GuestCpu cpu) {
        GuestMemory mem = cpu.memory();
        long desc = LAYOUT;
        long avail = desc + VirtqLayout.descTableSize(size);
        avail = (avail + 15) & ~15L;
        long used = (avail + VirtqLayout.availRingSize(size) + 15) & ~15L;
        long buffers = (used + VirtqLayout.usedRingSize(size) + 4095) & ~4095L;
        long txDesc = buffers + (long) size * bufferSize;
        long txAvail = txDesc + VirtqLayout.descTableSize(16);
        long txUsed = (txAvail + VirtqLayout.availRingSize(16) + 15) & ~15L;

        cpu.mmioWrite32(base + STATUS, 0);
        cpu.mmioWrite32(base + STATUS, ACKNOWLEDGE);
        cpu.mmioWrite32(base + STATUS, ACKNOWLEDGE | DRIVER);
        long features = VirtioFeatures.VERSION_1 | VirtioFeatures.RING_EVENT_IDX;
        cpu.mmioWrite32(base + DRIVER_FEATURES_SEL, 0);
        cpu.mmioWrite32(base + DRIVER_FEATURES, (int) features);
        cpu.mmioWrite32(base + DRIVER_FEATURES_SEL, 1);
        cpu.mmioWrite32(base + DRIVER_FEATURES, (int) (features >>> 32));
        cpu.mmioWrite32(base + STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
        if ((cpu.mmioRead32(base + STATUS) & FEATURES_OK) == 0) {
            failure = "the device refused VERSION_1 | EVENT_IDX";
            return;
        }
        setUpQueue(cpu, 0, size, desc, avail, used);
        setUpQueue(cpu, 1, 16, txDesc, txAvail, txUsed);
        for (int i = 0; i < size; i++) {
            long d = desc + (long) DESC_SIZE * i;
            mem.write64(d + DESC_ADDR, buffers + (long) i * bufferSize);
            mem.write32(d + DESC_LEN, bufferSize);
            mem.write16(d + DESC_FLAGS, (short) DESC_F_WRITE);
            mem.write16(avail + AVAIL_RING + 2L * i, (short) i);
        }
        int availIdx = size;
        int lastUsed = 0;
        mem.write16(avail + VirtqLayout.usedEventOffset(size), (short) (batch - 1));
        mem.storeRelease16(avail + AVAIL_IDX, (short) availIdx);
        cpu.mmioWrite32(base + STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        if ((cpu.mmioRead32(base + STATUS) & DEVICE_NEEDS_RESET) != 0) {
            failure = "DEVICE_NEEDS_RESET after DRIVER_OK";
            return;
        }
        cpu.mmioWrite32(base + QUEUE_NOTIFY, 0);
        ready = true;

        long myReaped = 0;
        long myInterrupts = 0;
        long myDoorbells = 0;
        long availEventAddr = used + VirtqLayout.availEventOffset(size);
        long usedEventAddr = avail + VirtqLayout.usedEventOffset(size);
        while (!stop) {
            int u = mem.loadAcquire16(used + USED_IDX) & 0xFFFF;
            if (u == lastUsed) {
                // Re-arm the interrupt for the next batch, then look again before sleeping (the event may be past).
                mem.write16(usedEventAddr, (short) (lastUsed + batch - 1));
                GuestMemory.fullFence();
                u = mem.loadAcquire16(used + USED_IDX) & 0xFFFF;
                if (u == lastUsed) {
                    cpu.waitForInterrupt();
                    while (cpu.readSystemRegister(SystemRegister.ICC_IAR1_EL1) != SystemRegister.SPURIOUS_INTID) {
                        myInterrupts++;
                    }
                    cpu.writeSystemRegister(SystemRegister.ICC_EOIR1_EL1, CountingInterruptController.LPI_BASE);
                    continue;
                }
            }
            int oldAvail = availIdx;
            while (lastUsed != u) {
                int id = mem.read32(used + USED_RING + (long) USED_ELEM_SIZE * (lastUsed & (size - 1)));
                mem.write16(avail + AVAIL_RING + 2L * (availIdx & (size - 1)), (short) id);
                availIdx = (availIdx + 1) & 0xFFFF;
                lastUsed = (lastUsed + 1) & 0xFFFF;
                myReaped++;
            }
            mem.storeRelease16(avail + AVAIL_IDX, (short) availIdx);
            GuestMemory.fullFence();
            int availEvent = mem.read16(availEventAddr) & 0xFFFF;
            if (VirtqLayout.needEvent(availEvent, availIdx, oldAvail)) {
                cpu.mmioWrite32(base + QUEUE_NOTIFY, 0);
                myDoorbells++;
            }
            reaped = myReaped;
            interrupts = myInterrupts;
            doorbells = myDoorbells;
        }
        reaped = myReaped;
        interrupts = myInterrupts;
        doorbells = myDoorbells;
    }

    private void setUpQueue(GuestCpu cpu, int q, int n, long desc, long avail, long used) {
        cpu.mmioWrite32(base + QUEUE_SEL, q);
        cpu.mmioWrite32(base + QUEUE_NUM, n);
        cpu.mmioWrite32(base + QUEUE_DESC_LOW, (int) desc);
        cpu.mmioWrite32(base + QUEUE_DESC_HIGH, (int) (desc >>> 32));
        cpu.mmioWrite32(base + QUEUE_DRIVER_LOW, (int) avail);
        cpu.mmioWrite32(base + QUEUE_DRIVER_HIGH, (int) (avail >>> 32));
        cpu.mmioWrite32(base + QUEUE_DEVICE_LOW, (int) used);
        cpu.mmioWrite32(base + QUEUE_DEVICE_HIGH, (int) (used >>> 32));
        cpu.mmioWrite32(base + QUEUE_READY, 1);
    }
}
