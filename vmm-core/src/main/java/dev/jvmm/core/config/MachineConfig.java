package dev.jvmm.core.config;

import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.RamRegion;

import java.util.List;

/**
 * The machine section: how many vCPUs and where its RAM is.
 *
 * @param vcpus      number of vCPUs (each with a redistributor)
 * @param memory     RAM regions (by default one region at 0x4000_0000)
 * @param strictMmio whether an access to no device is a data abort rather than read-as-zero/write-ignored
 */
public record MachineConfig(int vcpus, List<RamRegion> memory, boolean strictMmio) {
    public static final long DEFAULT_RAM_SIZE = 256L << 20;

    public MachineConfig {
        memory = List.copyOf(memory);
    }

    public static MachineConfig defaults() {
        return new MachineConfig(1, List.of(new RamRegion(MemoryMap.RAM_BASE, DEFAULT_RAM_SIZE)), false);
    }

    public MachineConfig withVcpus(int n) {
        return new MachineConfig(n, memory, strictMmio);
    }

    /** One region of {@code size} bytes at 0x4000_0000. */
    public MachineConfig withMemorySize(long size) {
        return new MachineConfig(vcpus, List.of(new RamRegion(MemoryMap.RAM_BASE, size)), strictMmio);
    }
}
