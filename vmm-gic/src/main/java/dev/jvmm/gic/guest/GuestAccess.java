package dev.jvmm.gic.guest;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestCpu;

/**
 * What guest code needs to drive a GIC: trapped MMIO loads and stores, and guest RAM. Obtain it from a vCPU (inside
 * a guest program) or from a bus and memory (a test or a tool acting as firmware on its own thread).
 */
public interface GuestAccess {

    GuestMemory memory();

    long mmioRead(long address, int size);

    void mmioWrite(long address, int size, long value);

    /** Guest code on a vCPU: every access is a trapped exit of that vCPU. */
    static GuestAccess of(GuestCpu cpu) {
        return new GuestAccess() {
            @Override
            public GuestMemory memory() {
                return cpu.memory();
            }

            @Override
            public long mmioRead(long address, int size) {
                return cpu.mmioRead(address, size);
            }

            @Override
            public void mmioWrite(long address, int size, long value) {
                cpu.mmioWrite(address, size, value);
            }
        };
    }

    /** Direct access, as a vCPU's store would reach the bus ({@link MmioBus#CPU_REQUESTER}). */
    static GuestAccess of(MmioBus bus, GuestMemory memory) {
        return new GuestAccess() {
            @Override
            public GuestMemory memory() {
                return memory;
            }

            @Override
            public long mmioRead(long address, int size) {
                return bus.read(address, size);
            }

            @Override
            public void mmioWrite(long address, int size, long value) {
                bus.write(address, size, value);
            }
        };
    }
}
