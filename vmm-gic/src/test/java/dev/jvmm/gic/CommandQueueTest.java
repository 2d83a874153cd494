package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.jvmm.gic.ItsRegisterDescriptor.*;
import static dev.jvmm.gic.LpiTableDescriptor.CONFIG_DEFAULT;
import static org.assertj.core.api.Assertions.assertThat;

/** The command queue: wrap-around, commands queued while disabled, the stall and its recovery. */
class CommandQueueTest {

    @Test
    void twoHundredCommandsWrapAOnePageQueueAndAllTakeEffect() {
        try (GicRig rig = GicRig.booted(2, 1, CacheStrategy.PER_ITS, 1)) {
            ItsCommandQueue its = rig.its();
            assertThat(its.queueBytes() / ItsCommandDescriptor.COMMAND_SIZE).as("a one-page queue holds 128").isEqualTo(128);
            its.mapd(3, 8, rig.driver.allocateItt(8), true);
            its.mapc(1, 1, true);
            for (int i = 0; i < 198; i++) {
                rig.driver.setConfig(8192 + i, CONFIG_DEFAULT);
                its.mapti(3, i, 8192 + i, 1);
            }
            assertThat(its.creadr()).as("200 commands: CREADR wrapped to 200 * 32 mod 4096").isEqualTo(200L * 32 % 4096);
            for (int i = 0; i < 198; i++) {
                its.interrupt(3, i);
            }
            List<Integer> taken = rig.takeAll(1);
            assertThat(taken).as("every mapping made before and after the wrap took effect").hasSize(198);
            assertThat(taken).isSorted();
            assertThat(rig.stats().its().get(0).totalErrors()).isZero();
        }
    }

    @Test
    void commandsQueuedWhileDisabledRunWhenTheItsIsEnabled() {
        try (GicRig rig = GicRig.booted(1, 1, CacheStrategy.PER_ITS, 1)) {
            ItsCommandQueue its = rig.its();
            rig.writeIts(0, GITS_CTLR, 4, 0);
            rig.driver.setConfig(8192, CONFIG_DEFAULT);
            its.mapd(1, 1, rig.driver.allocateItt(1), true);
            its.mapc(0, 0, true);
            its.mapti(1, 0, 8192, 0);
            its.interrupt(1, 0);
            assertThat(its.creadr()).as("nothing runs while disabled").isZero();
            assertThat(rig.takeAll(0)).isEmpty();
            rig.writeIts(0, GITS_CTLR, 4, CTLR_ENABLED);
            assertThat(its.drained()).isTrue();
            assertThat(rig.takeAll(0)).containsExactly(8192);
        }
    }

    @Test
    void anUnreadableCommandStallsTheQueueUntilCbaserIsRewritten() {
        try (GicRig rig = GicRig.booted(1, 1, CacheStrategy.PER_ITS, 1)) {
            long lastPage = MemoryMap.RAM_BASE + GicRig.RAM_SIZE - 4096;
            rig.writeIts(0, GITS_CTLR, 4, 0);
            // A two-page queue whose second page lies beyond the end of RAM.
            rig.writeIts(0, GITS_CBASER, 8, CBASER_VALID | lastPage | 1);
            rig.writeIts(0, GITS_CTLR, 4, CTLR_ENABLED);
            for (int slot = 0; slot < 130; slot++) {
                if (slot < 128) {
                    rig.memory.write64(lastPage + slot * 32L, ItsCommandDescriptor.SYNC);
                }
            }
            rig.writeIts(0, GITS_CWRITER, 8, 130 * 32);
            long creadr = rig.readIts(0, GITS_CREADR, 8);
            assertThat(creadr & CREADR_STALLED).as("the command beyond RAM stalls the queue").isEqualTo(1);
            assertThat(creadr & QUEUE_OFFSET_MASK).as("CREADR stops at the unreadable command").isEqualTo(4096);
            assertThat(rig.readIts(0, GITS_CTLR, 4) & CTLR_QUIESCENT & 0xFFFF_FFFFL).as("not quiescent").isZero();

            rig.writeIts(0, GITS_CWRITER, 8, 131 * 32 | CWRITER_RETRY);
            assertThat(rig.readIts(0, GITS_CREADR, 8)).as("a retry reads it again and stalls again").isEqualTo(4096 | 1);
            assertThat(rig.stats().its().get(0).stalls()).isEqualTo(2);

            ItsCommandQueue fresh = rig.driver.replaceCommandQueue(0, 1);
            assertThat(rig.readIts(0, GITS_CREADR, 8)).as("a CBASER rewrite clears the stall").isZero();
            rig.driver.setConfig(8192, CONFIG_DEFAULT);
            fresh.mapd(1, 1, rig.driver.allocateItt(1), true);
            fresh.mapc(0, 0, true);
            fresh.mapti(1, 0, 8192, 0);
            fresh.interrupt(1, 0);
            assertThat(fresh.drained()).isTrue();
            assertThat(rig.takeAll(0)).as("the ITS is usable again").containsExactly(8192);
        }
    }
}
