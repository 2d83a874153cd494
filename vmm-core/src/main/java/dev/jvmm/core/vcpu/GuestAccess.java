package dev.jvmm.core.vcpu;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.memory.GuestMemory;

/**
 * What guest-side code touches: guest RAM, and device registers through trapped MMIO loads and stores. A vCPU's
 * {@link GuestCpu} is one (every access is an exit of that vCPU); {@link #of(MmioBus, GuestMemory)} is another, for a
 * test or a tool that plays the guest from its own thread. Guest-side drivers (the GIC's test driver, vmm-net's test
 * kit) take a {@code GuestAccess}, so the same driver runs on a vCPU and on a test thread.
 */
public interface GuestAccess {

    /** Guest RAM. */
    GuestMemory memory();

    /** A trapped load of {@code size} (1, 2, 4, 8) bytes at guest physical address {@code address}. */
    long mmioRead(long address, int size);

    /** A trapped store. */
    void mmioWrite(long address, int size, long value);

    default int mmioRead32(long address) {
        return (int) mmioRead(address, 4);
    }

    default void mmioWrite32(long address, int value) {
        mmioWrite(address, 4, value & 0xFFFF_FFFFL);
    }

    default long mmioRead64(long address) {
        return mmioRead(address, 8);
    }

    default void mmioWrite64(long address, long value) {
        mmioWrite(address, 8, value);
    }

    /** Direct access from the calling thread, as a vCPU's store reaches the bus ({@link MmioBus#CPU_REQUESTER}). */
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
