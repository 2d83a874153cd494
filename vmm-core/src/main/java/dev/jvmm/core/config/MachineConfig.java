package dev.jvmm.core.config;

import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.RamRegion;

import java.util.ArrayList;
import java.util.List;

/**
 * The machine section: how many vCPUs and where its RAM is.
 *
 * <pre>
 * machine: {vcpus: 2, memory: 256M, strict-mmio: false}    # memory: a size, or a list of {base, size} regions
 * </pre>
 *
 * @param vcpus      number of vCPUs; 0 is a device-only machine whose guest side the embedder drives
 * @param memory     RAM regions (by default one region at 0x4000_0000)
 * @param strictMmio whether an access to no device is a data abort rather than read-as-zero/write-ignored
 */
public record MachineConfig(int vcpus, List<RamRegion> memory, boolean strictMmio) {
    public static final long DEFAULT_RAM_SIZE = 256L << 20;
    /**
     * The most vCPUs core runs (one thread each). The interrupt controller's section may allow fewer: the
     * redistributors of QEMU's virt memory map hold 123 (vmm-gic checks that).
     */
    public static final int MAX_VCPUS = 512;

    /** The {@code machine} section. */
    public static final ConfigSection<MachineConfig> SECTION = ConfigSection.of("machine", MachineConfig::defaults,
            MachineConfig::parse, MachineConfig::validate);

    public MachineConfig {
        memory = List.copyOf(memory);
    }

    /** One vCPU, 256 MiB of RAM at 0x4000_0000, lenient MMIO. */
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

    /** Reads the {@code machine} section. */
    static MachineConfig parse(ConfigNode s) {
        MachineConfig d = defaults();
        int vcpus = s.integer("vcpus", d.vcpus());
        List<RamRegion> memory = d.memory();
        ConfigNode mem = s.get("memory");
        if (mem != null && mem.isList()) {
            List<RamRegion> list = new ArrayList<>();
            for (ConfigNode r : mem.items()) {
                r.requireMapping();
                long base = r.size("base", MemoryMap.RAM_BASE);
                long size = r.size("size", -1);
                if (size < 0) {
                    throw r.error("size", "each RAM region needs a size");
                }
                list.add(region(base, size, r));
                r.rejectUnknown();
            }
            memory = list;
        } else if (mem != null && !mem.isMapping()) {
            memory = List.of(region(MemoryMap.RAM_BASE, s.size("memory", 0), mem));
        } else if (mem != null) {
            throw mem.error("must be a size such as 256M, or a list of {base, size} regions");
        }
        boolean strict = s.bool("strict-mmio", d.strictMmio());
        return new MachineConfig(vcpus, memory, strict);
    }

    /** Checks the {@code machine} section and its relations with the rest of the configuration. */
    static void validate(MachineConfig machine, VmConfig config) {
        ConfigSource s = config.source();
        if (machine.vcpus() < 0 || machine.vcpus() > MAX_VCPUS) {
            throw s.error("machine.vcpus", "must be between 0 and " + MAX_VCPUS + ", got " + machine.vcpus());
        }
        List<RamRegion> ram = machine.memory();
        if (ram.isEmpty()) {
            throw s.error("machine.memory", "at least one RAM region is needed");
        }
        for (int i = 0; i < ram.size(); i++) {
            RamRegion r = ram.get(i);
            String key = ram.size() > 1 || s.has("machine.memory[0]") ? "machine.memory[" + i + "]" : "machine.memory";
            if (Long.compareUnsigned(r.base(), MemoryMap.RAM_BASE) < 0) {
                throw s.error(key, "RAM region " + r + " overlaps the device area below 0x40000000");
            }
            for (int j = 0; j < i; j++) {
                if (r.overlaps(ram.get(j))) {
                    throw s.error(key, "RAM region " + r + " overlaps region " + ram.get(j));
                }
            }
        }
    }

    private static RamRegion region(long base, long size, ConfigNode at) {
        try {
            return new RamRegion(base, size);
        } catch (IllegalArgumentException e) {
            throw at.error(e.getMessage());
        }
    }
}
