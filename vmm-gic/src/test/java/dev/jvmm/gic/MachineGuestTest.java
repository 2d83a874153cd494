package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestCpu;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.guest.GicDriver;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The GIC inside a {@link Machine}, driven by guest programs on four vCPUs: the kvm-unit-tests trigger sequence
 * where the vCPUs sleep in WFI and are woken by the GIC's kicks, and an MSI through the machine's IRQ router.
 * Every vCPU counts what it takes in guest RAM; vCPU 0 runs the test and waits for those counts, as
 * kvm-unit-tests' {@code wait_for_interrupts} does.
 */
class MachineGuestTest {
    static final long RESULTS = MemoryMap.RAM_BASE + 0x1000;
    static final long STEP = RESULTS + 0x800;
    static final long ARENA = MemoryMap.RAM_BASE + (1L << 20);
    static final int DONE = 0xD0E;
    static final long WAIT_NANOS = 10_000_000_000L;

    /** The count of LPI {@code lpi} taken by {@code pe}, in guest RAM. */
    static long counter(int pe, int lpi) {
        return RESULTS + pe * 0x100L + (lpi - 8192) * 4L;
    }

    @ParameterizedTest
    @EnumSource(value = CacheStrategy.class, names = {"NONE", "PER_ITS"})
    void triggerSequenceOnVcpusThatSleepInWfi(CacheStrategy strategy) throws Exception {
        VmConfig config = VmConfig.builder().vcpus(4).memorySize(32L << 20)
                .with(GicConfig.SECTION, GicConfig.defaults().withCache(strategy)).build();
        try (Machine m = Machine.builder(config).interruptController(GicV3::create)
                .guest(vcpu -> vcpu == 0 ? MachineGuestTest::runTest : MachineGuestTest::takeLpis).build()) {
            m.start();
            GuestMemory ram = m.memory();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (ram.loadAcquire32(STEP) < 10) {
                assertThat(m.vcpuFaults()).as("guest faults").isEmpty();
                assertThat(System.nanoTime()).as("the guest reached the MSI step").isLessThan(deadline);
                Thread.sleep(1);
            }
            // An MSI through the machine's router (KVM_SIGNAL_MSI): dev 2 event 20 raises LPI 8195 on PE 3.
            long r = m.irqRouter().injectMsi(m.interruptController().msiTarget(0, 2).doorbell(), 20, 2);
            assertThat(InjectResult.describe(r)).isEqualTo("delivered INTID 8195 to vCPU 3");
            ram.storeRelease32(STEP, 11);
            while (ram.loadAcquire32(STEP) != DONE) {
                assertThat(m.vcpuFaults()).as("guest faults").isEmpty();
                assertThat(System.nanoTime()).as("the guest finished").isLessThan(deadline);
                Thread.sleep(1);
            }
            assertThat(ram.read32(counter(3, 8195))).as("PE 3 took LPI 8195: INT, after INVALL, MSI").isEqualTo(3);
            assertThat(ram.read32(counter(2, 8196))).as("PE 2 took LPI 8196 once").isEqualTo(1);
            assertThat(ram.read32(counter(1, 8195)) + ram.read32(counter(2, 8195))).as("nobody else took 8195").isZero();
            assertThat(ram.read32(counter(3, 8197))).as("the marker LPI").isEqualTo(1);
            GicV3 gic = (GicV3) m.interruptController();
            assertThat(gic.stats().commandErrors(ItsCommandError.INT_UNMAPPED_INTERRUPT)).isEqualTo(1);
            assertThat(m.stop()).as("clean stop").isEmpty();
        }
    }

    /** vCPUs 1..3: the kvm-unit-tests secondary loop. */
    static void takeLpis(GuestCpu cpu) {
        GicDriver.initCpuInterface(cpu);
        GuestMemory ram = cpu.memory();
        while (true) {
            cpu.waitForInterrupt();
            long intid;
            while ((intid = cpu.readSystemRegister(SystemRegister.ICC_IAR1_EL1)) != SystemRegister.SPURIOUS_INTID) {
                if (intid >= 8192 && intid < 8192 + 64) {
                    long at = counter(cpu.index(), (int) intid);
                    ram.storeRelease32(at, ram.loadAcquire32(at) + 1);
                }
                cpu.writeSystemRegister(SystemRegister.ICC_EOIR1_EL1, intid);
            }
        }
    }

    /** vCPU 0: sets the GIC up and runs the trigger sequence. */
    static void runTest(GuestCpu cpu) {
        GicDriver.initCpuInterface(cpu);
        GuestMemory ram = cpu.memory();
        GicDriver gic = new GicDriver(cpu, cpu.vcpuCount(), 1, ARENA, 16L << 20);
        gic.initDistributorAndLpis();
        ItsCommandQueue its = gic.initIts(0, 1);
        ItsTriggerConformanceTest.setup1(gic, its);
        // MAPTI reads the LPI's configuration: 8197's is written before its mapping.
        gic.setConfig(8197, LpiTableDescriptor.CONFIG_DEFAULT);
        its.mapti(7, 1, 8197, 3);

        its.interrupt(2, 20);
        waitFor(cpu, counter(3, 8195), 1);
        its.interrupt(7, 255);
        waitFor(cpu, counter(2, 8196), 1);

        gic.setConfig(8195, LpiTableDescriptor.CONFIG_DEFAULT & ~LpiTableDescriptor.CONFIG_ENABLE);
        its.inv(2, 20);
        its.interrupt(2, 20);
        gic.setConfig(8195, LpiTableDescriptor.CONFIG_DEFAULT);
        its.interrupt(2, 20);
        its.invall(3);
        waitFor(cpu, counter(3, 8195), 2);

        ram.storeRelease32(STEP, 10);
        while (ram.loadAcquire32(STEP) != 11) {
            cpu.checkpoint();
            Thread.onSpinWait();
        }
        waitFor(cpu, counter(3, 8195), 3);

        its.mapd(2, 8, 0, false);
        its.interrupt(2, 20);
        its.interrupt(7, 1); // a marker on the same PE: once it is taken, an LPI from INT (2, 20) would have been too
        waitFor(cpu, counter(3, 8197), 1);
        ram.storeRelease32(STEP, DONE);
        while (true) {
            cpu.waitForInterrupt();
        }
    }

    private static void waitFor(GuestCpu cpu, long counter, int value) {
        long start = cpu.counterNanos();
        while (cpu.memory().loadAcquire32(counter) < value) {
            if (cpu.counterNanos() - start > WAIT_NANOS) {
                throw new IllegalStateException("timed out waiting for the LPI counted at 0x" + Long.toHexString(counter));
            }
            cpu.checkpoint();
            Thread.onSpinWait();
        }
    }
}
