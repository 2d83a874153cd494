package dev.jvmm.core.bus;

import dev.jvmm.core.testing.Race;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MmioBusTest {

    /** A device with 8-byte registers backed by an array, recording the last requester. */
    static final class RegisterFile implements MmioDevice {
        final long[] regs;
        volatile int lastRequester;
        final AtomicLong writes = new AtomicLong();

        RegisterFile(int count) {
            regs = new long[count];
        }

        @Override
        public synchronized long read(long offset, int size) {
            long v = regs[(int) (offset / 8)] >>> (8 * (offset % 8));
            return size == 8 ? v : v & ((1L << (8 * size)) - 1);
        }

        @Override
        public synchronized void write(long offset, int size, long value, int requesterId) {
            regs[(int) (offset / 8)] = value;
            lastRequester = requesterId;
            writes.incrementAndGet();
        }
    }

    @Test
    void routesAccessesByAddressWithTheOffsetInsideTheDevice() {
        MmioBus bus = new MmioBus();
        RegisterFile a = new RegisterFile(16);
        RegisterFile b = new RegisterFile(16);
        bus.register("a", 0x1000, 128, a);
        bus.register("b", 0x2000, 128, b);
        bus.write(0x2008, 8, 0xDEAD_BEEFL);
        assertThat(b.regs[1]).isEqualTo(0xDEAD_BEEFL);
        assertThat(bus.read(0x2008, 4)).isEqualTo(0xDEAD_BEEFL);
        assertThat(bus.read(0x2008, 2)).isEqualTo(0xBEEFL);
        assertThat(b.lastRequester).isEqualTo(MmioBus.CPU_REQUESTER);
        bus.write(0x1000, 4, 7, 42);
        assertThat(a.lastRequester).as("the DeviceID travels beside the write").isEqualTo(42);
        assertThat(bus.find(0x107F, 1).name()).isEqualTo("a");
        assertThat(bus.find(0x107F, 2)).as("an access straddling the device end").isNull();
        assertThat(bus.find(0xFFF, 1)).isNull();
    }

    @Test
    void overlappingEmptyAndWrappingRangesAreRejectedWithBothNames() {
        MmioBus bus = new MmioBus();
        bus.register("gicd", 0x0800_0000L, 0x1_0000, new RegisterFile(1));
        assertThatThrownBy(() -> bus.register("its", 0x0800_F000L, 0x2_0000, new RegisterFile(1)))
                .hasMessageContaining("its").hasMessageContaining("overlaps gicd");
        assertThatThrownBy(() -> bus.register("below", 0x07FF_F000L, 0x1001, new RegisterFile(1)))
                .hasMessageContaining("overlaps gicd");
        assertThatThrownBy(() -> bus.register("empty", 0x100, 0, new RegisterFile(1))).hasMessageContaining("empty");
        assertThatThrownBy(() -> bus.register("wrap", -0x1000L, 0x2000, new RegisterFile(1))).hasMessageContaining("wraps");
        // Adjacent is fine.
        bus.register("next", 0x0801_0000L, 0x1000, new RegisterFile(1));
        assertThat(bus.ranges()).hasSize(2);
    }

    @Test
    void unmappedAccessesReadZeroAndAreCountedOrFaultInStrictMode() {
        MmioBus lax = new MmioBus(false);
        assertThat(lax.read(0x1234, 4)).isZero();
        lax.write(0x1234, 4, 1);
        assertThat(lax.unmappedReads()).isEqualTo(1);
        assertThat(lax.unmappedWrites()).isEqualTo(1);

        MmioBus strict = new MmioBus(true);
        assertThatThrownBy(() -> strict.read(0x1234, 4)).isInstanceOf(MmioFault.class).hasMessageContaining("0x1234");
        assertThatThrownBy(() -> strict.write(0x1234, 8, 1)).isInstanceOfSatisfying(MmioFault.class,
                f -> assertThat(f.isWrite()).isTrue());
        assertThat(strict.unmappedReads()).isEqualTo(1);
    }

    @Test
    void badAccessSizesAreHostBugs() {
        MmioBus bus = new MmioBus();
        assertThatThrownBy(() -> bus.read(0, 3)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void manyDevicesAreFoundByBinarySearch() {
        MmioBus bus = new MmioBus();
        RegisterFile[] devs = new RegisterFile[200];
        for (int i = 199; i >= 0; i--) {
            devs[i] = new RegisterFile(1);
            bus.register("d" + i, 0x0A00_0000L + i * 0x200L, 0x200, devs[i]);
        }
        for (int i = 0; i < 200; i++) {
            assertThat(bus.find(0x0A00_0000L + i * 0x200L + 0x1F8, 8).device()).isSameAs(devs[i]);
        }
        assertThat(bus.unregister(devs[5])).isTrue();
        assertThat(bus.find(0x0A00_0000L + 5 * 0x200L, 4)).isNull();
        assertThat(bus.unregister(devs[5])).isFalse();
    }

    @Test
    void concurrentAccessesFromSeveralThreadsWhileDevicesAreRegistered() throws Exception {
        MmioBus bus = new MmioBus();
        RegisterFile[] devs = new RegisterFile[4];
        for (int i = 0; i < devs.length; i++) {
            devs[i] = new RegisterFile(1);
            bus.register("d" + i, 0x1000L * (i + 1), 8, devs[i]);
        }
        int threads = 4;
        int perThread = 50_000;
        Throwable failure = Race.run(threads, me -> {
            for (int i = 0; i < perThread; i++) {
                bus.write(0x1000L * (me + 1), 8, i);
                long v = bus.read(0x1000L * (me + 1), 8);
                if (v != i) {
                    throw new AssertionError("thread " + me + " read " + v + " after writing " + i);
                }
            }
        }, () -> {
            // Registrations change the snapshot while the accessors run.
            for (int i = 0; i < 100; i++) {
                RegisterFile extra = new RegisterFile(1);
                bus.register("extra" + i, 0x10_0000L + i * 8, 8, extra);
            }
        });
        assertThat(failure).isNull();
        for (RegisterFile d : devs) {
            assertThat(d.writes.get()).isEqualTo(perThread);
        }
    }
}
