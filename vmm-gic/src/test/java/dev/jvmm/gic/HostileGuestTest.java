package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;
import dev.jvmm.core.testing.HostileCases;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static dev.jvmm.gic.ItsRegisterDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A hostile guest: seeded random command streams (random opcodes and fields, edgy values), command queues and
 * tables outside RAM or across its end, huge sizes, CWRITER beyond the queue, random register writes and MSIs. No
 * exception may escape, nothing may hang, and once the guest rewrites GITS_CBASER (and its tables) the GIC must
 * work again. Replay a failure with {@code -Djvmm.seed=N}.
 */
@ExtendWith(SeedExtension.class)
class HostileGuestTest {
    /** Ten times the 120 streams of the first version (issue 13), made cheap by sharing one small guest RAM. */
    static final int STREAMS = HostileCases.cases(1200);
    static final int OPERATIONS = 250;

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void randomStreamsNeverBreakTheGic(SeededRandom random) {
        long stalls = 0;
        long errors = 0;
        long commands = 0;
        long start = System.nanoTime();
        try (GuestMemory ram = GicRig.sharedMemory()) {
            for (int stream = 0; stream < STREAMS; stream++) {
                CacheStrategy strategy = CacheStrategy.values()[random.nextInt(CacheStrategy.values().length)];
                int vcpus = 1 + random.nextInt(3);
                try (GicRig rig = GicRig.booted(ram, vcpus, 1, strategy, 1 + random.nextInt(4))) {
                    Hostile guest = new Hostile(rig, random);
                    for (int op = 0; op < OPERATIONS; op++) {
                        guest.step();
                    }
                    ItsStats s = rig.stats().its().get(0);
                    stalls += s.stalls();
                    errors += s.totalErrors();
                    commands += s.commands();
                    recoverAndCheck(rig, vcpus, stream);
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "HostileGuestTest: %,d ITS command streams of %d operations (%,d commands run, "
                        + "%,d ignored for bad parameters, %,d stalls) in %.1f s: %.0f streams/s, %,.0f operations/s%n",
                STREAMS, OPERATIONS, commands, errors, stalls, seconds, STREAMS / seconds, STREAMS * (double) OPERATIONS / seconds);
        // The streams must have reached the paths they are meant to test.
        assertThat(stalls).as("queues stalled on unreadable commands").isPositive();
        assertThat(errors).as("commands ignored for bad parameters").isPositive();
        assertThat(commands).as("commands run").isGreaterThan(STREAMS * 10L);
    }

    /** The guest's way back: new tables and a new queue, then a mapping that must deliver. */
    private static void recoverAndCheck(GicRig rig, int vcpus, int stream) {
        for (int pe = 0; pe < vcpus; pe++) {
            rig.driver.disableLpis(pe);
        }
        rig.driver.initLpiTables(true);
        for (int pe = 0; pe < vcpus; pe++) {
            rig.driver.enableLpis(pe);
            // The hostile stream may have left the CPU interface anyhow (active priorities, EOImode, binary points,
            // Group 0 enabled): reset it as a guest's interrupt controller driver would.
            rig.gic.writeSystemRegister(pe, SystemRegister.ICC_CTLR_EL1, 0);
            rig.gic.writeSystemRegister(pe, SystemRegister.ICC_AP0R0_EL1, 0);
            rig.gic.writeSystemRegister(pe, SystemRegister.ICC_AP1R0_EL1, 0);
            rig.gic.writeSystemRegister(pe, SystemRegister.ICC_IGRPEN0_EL1, 0);
            rig.gic.writeSystemRegister(pe, SystemRegister.ICC_BPR1_EL1, 0);
            rig.openCpuInterface(pe);
            rig.takeAll(pe);
        }
        ItsCommandQueue its = rig.driver.initIts(0, 1);
        int pe = vcpus - 1;
        int lpi = 60000;
        rig.driver.setConfig(lpi, LpiTableDescriptor.CONFIG_DEFAULT);
        its.mapd(0xFFF0, 4, rig.driver.allocateItt(4), true);
        its.mapc(77, pe, true);
        its.mapti(0xFFF0, 3, lpi, 77);
        its.interrupt(0xFFF0, 3);
        assertThat(its.drained()).as("stream %d: the queue runs again after CBASER was rewritten", stream).isTrue();
        assertThat(rig.takeAll(pe)).as("stream %d: INT delivers again", stream).contains(lpi);
        assertThat(InjectResult.describe(rig.msi(0xFFF0, 3))).as("stream %d: MSIs deliver again", stream)
                .isEqualTo("delivered INTID " + lpi + " to vCPU " + pe);
        GicStats stats = rig.stats();
        assertThat(stats.its().get(0).internalErrors()).as("stream %d: no command hit a bug", stream).isZero();
        assertThat(stats.cacheDoubleReleases()).isZero();
    }

    /** One hostile guest: every method is something a guest can do. */
    static final class Hostile {
        final GicRig rig;
        final SeededRandom random;
        final int vcpus;
        final long ramEnd;
        long queue;
        long queueBytes;

        Hostile(GicRig rig, SeededRandom random) {
            this.rig = rig;
            this.ramEnd = rig.ramEnd;
            this.random = random;
            this.vcpus = rig.vcpus;
            this.queue = rig.its().address();
            this.queueBytes = rig.its().queueBytes();
        }

        void step() {
            switch (random.nextInt(12)) {
                case 0:
                case 1:
                case 2:
                case 3:
                    randomCommands();
                    break;
                case 4:
                    wellFormedCommands();
                    break;
                case 5:
                    moveQueue();
                    break;
                case 6:
                    itsRegister();
                    break;
                case 7:
                    redistributorRegister();
                    break;
                case 8:
                case 9:
                    msis();
                    break;
                case 10:
                    systemRegisters();
                    break;
                default:
                    rig.writeIts(0, GITS_CWRITER, random.nextBoolean() ? 8 : 4, random.edgyLong());
            }
        }

        /** Random bytes as commands, and CWRITER moved over them (possibly far ahead or past the queue). */
        void randomCommands() {
            int n = 1 + random.nextInt(8);
            long cwriter = rig.readIts(0, GITS_CWRITER, 8);
            for (int k = 0; k < n && queueBytes > 0; k++) {
                long slot = queue + (cwriter + 32L * k) % queueBytes;
                guestWrite(slot, random.nextInt(256) | (random.edgyLong() & ~0xFFL));
                guestWrite(slot + 8, random.edgyLong());
                guestWrite(slot + 16, random.edgyLong());
                guestWrite(slot + 24, random.edgyLong());
            }
            long next = random.nextInt(4) == 0 ? random.edgyLong() : cwriter + 32L * n;
            rig.writeIts(0, GITS_CWRITER, 8, queueBytes > 0 ? next % Math.max(32, queueBytes) : next);
        }

        /** Valid opcodes with small, often valid, fields: state actually changes, then gets torn down. */
        void wellFormedCommands() {
            int[] opcodes = {ItsCommandDescriptor.MOVI, ItsCommandDescriptor.INT, ItsCommandDescriptor.CLEAR,
                    ItsCommandDescriptor.SYNC, ItsCommandDescriptor.MAPD, ItsCommandDescriptor.MAPC,
                    ItsCommandDescriptor.MAPTI, ItsCommandDescriptor.MAPI, ItsCommandDescriptor.INV,
                    ItsCommandDescriptor.INVALL, ItsCommandDescriptor.MOVALL, ItsCommandDescriptor.DISCARD};
            int n = 1 + random.nextInt(16);
            long cwriter = rig.readIts(0, GITS_CWRITER, 8);
            for (int k = 0; k < n && queueBytes > 0; k++) {
                long slot = queue + (cwriter + 32L * k) % queueBytes;
                int opcode = opcodes[random.nextInt(opcodes.length)];
                long dev = random.nextInt(4);
                long ev = random.nextInt(20);
                long intid = 8192 + random.nextInt(64);
                int icid = random.nextInt(6);
                long pe = random.nextInt(vcpus + 1);
                guestWrite(slot, ItsCommandDescriptor.dw0(opcode, dev));
                guestWrite(slot + 8, opcode == ItsCommandDescriptor.MAPD ? random.nextInt(20)
                        : ItsCommandDescriptor.dw1(ev, intid));
                guestWrite(slot + 16, opcode == ItsCommandDescriptor.MAPD
                        ? (random.nextBoolean() ? ItsCommandDescriptor.VALID : 0) | (random.edgyLong() & ItsCommandDescriptor.ITT_ADDRESS_MASK)
                        : ItsCommandDescriptor.dw2(icid, pe, random.nextInt(4) > 0));
                guestWrite(slot + 24, ItsCommandDescriptor.rdBaseWord(random.nextInt(vcpus + 1)));
                if (random.nextInt(3) == 0) {
                    rig.driver.setConfig((int) intid, random.nextInt(256));
                }
            }
            rig.writeIts(0, GITS_CWRITER, 8, (cwriter + 32L * n) % Math.max(32, queueBytes));
        }

        /** A new CBASER: in RAM, across its end, outside it, huge, or invalid. */
        void moveQueue() {
            rig.writeIts(0, GITS_CTLR, 4, 0);
            long size = random.nextInt(4) == 0 ? 255 : random.nextInt(4);
            long base;
            switch (random.nextInt(5)) {
                case 0: base = ramEnd - 4096; break;                       // across the end of RAM
                case 1: base = random.edgyLong() & CBASER_PA_MASK; break;    // anywhere
                case 2: base = 0; break;                                     // below RAM
                default:
                    size = Math.min(size, 3); // keep the arena for the rest of the stream
                    base = rig.driver.allocate(4096 * (size + 1), 4096);
            }
            long valid = random.nextInt(6) == 0 ? 0 : CBASER_VALID;
            rig.writeIts(0, GITS_CBASER, 8, valid | base | size);
            queue = base;
            queueBytes = cbaserQueueBytes(rig.readIts(0, GITS_CBASER, 8));
            if (random.nextInt(4) > 0) {
                rig.writeIts(0, GITS_CTLR, 4, CTLR_ENABLED);
            }
        }

        void itsRegister() {
            long[] offsets = {GITS_CTLR, GITS_IIDR, GITS_TYPER, GITS_CBASER, GITS_CBASER + 4, GITS_CWRITER,
                    GITS_CREADR, baser(0), baser(0) + 4, baser(1), baser(7), GITS_PIDR2, 0x1234, 0xFFFC};
            long offset = offsets[random.nextInt(offsets.length)];
            int size = new int[]{1, 2, 4, 8}[random.nextInt(4)];
            if (offset == GITS_CTLR && random.nextBoolean()) {
                rig.writeIts(0, GITS_CTLR, 4, 0);
                long table = random.nextInt(3) == 0 ? random.edgyLong() & BASER_PA_MASK : rig.driver.allocate(0x1_0000, 0x1_0000);
                long pages = random.nextInt(3) == 0 ? 255 : random.nextInt(4);
                long indirect = random.nextInt(3) == 0 ? BASER_INDIRECT : 0;
                long pageSize = (long) random.nextInt(4) << BASER_PAGE_SIZE_SHIFT;
                rig.writeIts(0, baser(random.nextInt(2)), 8, BASER_VALID | indirect | pageSize | table | pages);
                rig.writeIts(0, GITS_CTLR, 4, CTLR_ENABLED);
                return;
            }
            if (random.nextBoolean()) {
                rig.readIts(0, offset, size);
            } else {
                rig.writeIts(0, offset, size, random.edgyLong());
            }
        }

        void redistributorRegister() {
            int pe = random.nextInt(vcpus);
            long[] offsets = {RedistributorRegisterDescriptor.GICR_CTLR, RedistributorRegisterDescriptor.GICR_WAKER,
                    RedistributorRegisterDescriptor.GICR_PROPBASER, RedistributorRegisterDescriptor.GICR_PENDBASER,
                    RedistributorRegisterDescriptor.GICR_TYPER, 0x10080, 0x1FFF8};
            long offset = offsets[random.nextInt(offsets.length)];
            if (offset == RedistributorRegisterDescriptor.GICR_PENDBASER || offset == RedistributorRegisterDescriptor.GICR_PROPBASER) {
                rig.driver.disableLpis(pe);
                long pa;
                switch (random.nextInt(3)) {
                    case 0: pa = ramEnd - 4096; break;
                    case 1: pa = random.edgyLong(); break;
                    default: pa = rig.driver.allocate(0x1_0000, 0x1_0000);
                }
                rig.writeGicr(pe, offset, 8, pa | (random.nextBoolean() ? RedistributorRegisterDescriptor.PENDBASER_PTZ : 0)
                        | random.nextInt(32));
                rig.driver.enableLpis(pe);
            } else if (random.nextBoolean()) {
                rig.writeGicr(pe, offset, 4, random.edgyLong());
            } else {
                rig.readGicr(pe, offset, 8);
            }
        }

        void msis() {
            for (int k = 0; k < 8; k++) {
                int dev = random.nextInt(3) == 0 ? random.edgyInt() : random.nextInt(4);
                int ev = random.nextInt(3) == 0 ? random.edgyInt() : random.nextInt(20);
                switch (random.nextInt(3)) {
                    case 0:
                        rig.msi(dev, ev);
                        break;
                    case 1:
                        rig.bus.write(rig.gic.doorbell(0), random.nextBoolean() ? 4 : 2, ev, dev);
                        break;
                    default:
                        rig.gic.tryInjectCached(random.edgyLong(), ev, dev, 0);
                }
            }
        }

        void systemRegisters() {
            int pe = random.nextInt(vcpus);
            SystemRegister r = SystemRegister.values()[random.nextInt(SystemRegister.values().length)];
            if (random.nextBoolean()) {
                rig.gic.readSystemRegister(pe, r);
            } else {
                rig.gic.writeSystemRegister(pe, r, random.edgyLong());
            }
            rig.gic.hasPendingInterrupt(pe);
        }

        /** The guest's own store: outside RAM it would fault in the guest, so it simply does not happen. */
        private void guestWrite(long gpa, long value) {
            try {
                rig.memory.write64(gpa, value);
            } catch (GuestMemoryException e) {
                // not RAM: nothing written
            }
        }
    }
}
