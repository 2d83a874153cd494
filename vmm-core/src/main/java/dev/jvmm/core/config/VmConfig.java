package dev.jvmm.core.config;

import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.RamRegion;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A whole machine configuration: immutable, and valid once {@link #validate()} has returned (the YAML loader and
 * {@link Builder#build()} both call it).
 *
 * <p>From code:
 * <pre>{@code
 * VmConfig config = VmConfig.builder()
 *         .vcpus(2).memorySize(256L << 20)
 *         .cache(CacheStrategy.PER_ITS)
 *         .nic(NicConfig.udp(0, 5001))
 *         .guest(GuestConfig.of("udp-sink"))
 *         .build();
 * }</pre>
 */
public record VmConfig(ConfigSource source, MachineConfig machine, IrqConfig irq, GicConfig gic, NetConfig net,
                       List<NicConfig> nics, GuestConfig guest, TraceConfig trace) {

    public static final int MAX_QUEUE_SIZE = 32768;
    public static final int MAX_EVENT_LOOP_THREADS = 64;
    public static final int MAX_ITS = 4;
    public static final int MAX_CACHE_SHARDS = 256;

    public VmConfig {
        nics = List.copyOf(nics);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A copy with another translation cache strategy (the benchmark's cells differ only in this). */
    public VmConfig withCache(CacheStrategy c) {
        return new VmConfig(source, machine, irq, gic.withCache(c), net, nics, guest, trace);
    }

    /** A copy with another injection mode. */
    public VmConfig withIrq(IrqConfig i) {
        return new VmConfig(source, machine, i, gic, net, nics, guest, trace);
    }

    public VmConfig withNics(List<NicConfig> n) {
        return new VmConfig(source, machine, irq, gic, net, n, guest, trace);
    }

    public VmConfig withGuest(GuestConfig g) {
        return new VmConfig(source, machine, irq, gic, net, nics, g, trace);
    }

    public VmConfig withTrace(TraceConfig t) {
        return new VmConfig(source, machine, irq, gic, net, nics, guest, t);
    }

    /**
     * Checks every value and every relation between values; throws a {@link ConfigException} naming the first
     * problem's key (and, for a file, its line). Returns this configuration.
     */
    public VmConfig validate() {
        ConfigSource s = source;
        int maxVcpus = MemoryMap.maxVcpus(gic.itsCount());
        if (gic.itsCount() < 1 || gic.itsCount() > MAX_ITS) {
            throw s.error("gic.its-count", "must be between 1 and " + MAX_ITS + ", got " + gic.itsCount());
        }
        if (machine.vcpus() < 1 || machine.vcpus() > maxVcpus) {
            throw s.error("machine.vcpus", "must be between 1 and " + maxVcpus + " (the redistributors of QEMU's virt"
                    + " memory map), got " + machine.vcpus());
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
        if (irq.mode() == null) {
            throw s.error("irq.mode", "must be inline or worker");
        }
        if (irq.haltPollNanos() < 0 || irq.haltPollNanos() > 1_000_000_000L) {
            throw s.error("irq.halt-poll", "must be between 0 and 1s");
        }
        if (irq.injectorSpinNanos() < 0 || irq.injectorSpinNanos() > 1_000_000_000L) {
            throw s.error("irq.injector-spin", "must be between 0 and 1s");
        }
        if (gic.cache() == null) {
            throw s.error("gic.cache", "must be one of none, global-lru, sharded, per-its");
        }
        if (gic.cacheShards() < 1 || gic.cacheShards() > MAX_CACHE_SHARDS) {
            throw s.error("gic.cache-shards", "must be between 1 and " + MAX_CACHE_SHARDS + ", got " + gic.cacheShards());
        }
        if (gic.cacheEntriesPerVcpu() < 1 || gic.cacheEntriesPerVcpu() > 4096) {
            throw s.error("gic.cache-entries-per-vcpu", "must be between 1 and 4096, got " + gic.cacheEntriesPerVcpu());
        }
        if (net.eventLoopThreads() < 1 || net.eventLoopThreads() > MAX_EVENT_LOOP_THREADS) {
            throw s.error("net.event-loop-threads", "must be between 1 and " + MAX_EVENT_LOOP_THREADS + ", got "
                    + net.eventLoopThreads());
        }
        validateNics(s);
        if (guest == null || guest.program() == null || guest.program().isBlank()) {
            throw s.error("guest.program", "a guest program is required");
        }
        return this;
    }

    private void validateNics(ConfigSource s) {
        if (nics.size() > MemoryMap.VIRTIO_MMIO_SLOTS) {
            throw s.error("nics", "at most " + MemoryMap.VIRTIO_MMIO_SLOTS + " NICs fit the virtio-mmio slots, got " + nics.size());
        }
        Map<String, Integer> ids = new HashMap<>();
        Map<InetSocketAddress, Integer> ports = new HashMap<>();
        Map<MacAddress, Integer> macs = new HashMap<>();
        Map<Integer, Integer> slots = new HashMap<>();
        Map<Long, Integer> deviceIds = new HashMap<>();
        for (int i = 0; i < nics.size(); i++) {
            NicConfig n = nics.get(i);
            String k = "nics[" + i + "]";
            if (n.id() == null || n.id().isBlank()) {
                throw s.error(k + ".id", "a NIC needs an id");
            }
            Integer prev = ids.putIfAbsent(n.id(), i);
            if (prev != null) {
                throw s.error(k + ".id", "id '" + n.id() + "' is already used by nics[" + prev + "]");
            }
            if (n.backend() == null) {
                throw s.error(k + ".backend", "must be udp or udp-tunnel");
            }
            if (n.listen() == null) {
                throw s.error(k + ".listen", "a listen address (host:port) is required");
            }
            if (n.listen().getPort() != 0) {
                prev = ports.putIfAbsent(n.listen(), i);
                if (prev != null) {
                    throw s.error(k + ".listen", "address " + hostPort(n.listen()) + " is already used by nics[" + prev + "]");
                }
            }
            if (n.backend() == NicConfig.NicBackend.UDP_TUNNEL && n.remote() == null) {
                throw s.error(k + ".remote", "a udp-tunnel NIC needs a remote address (host:port)");
            }
            if (n.backend() == NicConfig.NicBackend.UDP && n.remote() != null) {
                throw s.error(k + ".remote", "only a udp-tunnel NIC has a remote address");
            }
            if (n.mac() == null || n.mac().isMulticast()) {
                throw s.error(k + ".mac", "must be a unicast MAC address such as 52:54:00:12:34:56");
            }
            prev = macs.putIfAbsent(n.mac(), i);
            if (prev != null) {
                throw s.error(k + ".mac", "MAC " + n.mac() + " is already used by nics[" + prev + "]");
            }
            if (n.guestPort() < 1 || n.guestPort() > 65535) {
                throw s.error(k + ".guest-port", "must be between 1 and 65535, got " + n.guestPort());
            }
            int q = n.queueSize();
            if (q < 2 || q > MAX_QUEUE_SIZE || Integer.bitCount(q) != 1) {
                throw s.error(k + ".queue-size", "must be a power of two between 2 and " + MAX_QUEUE_SIZE + ", got " + q);
            }
            if (n.queuePairs() < 1 || n.queuePairs() > 16) {
                throw s.error(k + ".queue-pairs", "must be between 1 and 16, got " + n.queuePairs());
            }
            if (n.slot() < 0 || n.slot() >= MemoryMap.VIRTIO_MMIO_SLOTS) {
                throw s.error(k + ".slot", "must be between 0 and " + (MemoryMap.VIRTIO_MMIO_SLOTS - 1) + ", got " + n.slot());
            }
            prev = slots.putIfAbsent(n.slot(), i);
            if (prev != null) {
                throw s.error(k + ".slot", "virtio-mmio slot " + n.slot() + " is already used by nics[" + prev + "]");
            }
            if (n.its() < 0 || n.its() >= gic.itsCount()) {
                throw s.error(k + ".its", "must name one of the " + gic.itsCount() + " ITS (0.." + (gic.itsCount() - 1)
                        + "), got " + n.its());
            }
            if (n.deviceId() < 0 || n.deviceId() > 0xFFFF) {
                throw s.error(k + ".device-id", "must be between 0 and 65535 (16 DeviceID bits), got " + n.deviceId());
            }
            prev = deviceIds.putIfAbsent(((long) n.its() << 32) | n.deviceId(), i);
            if (prev != null) {
                throw s.error(k + ".device-id", "DeviceID " + n.deviceId() + " on ITS " + n.its()
                        + " is already used by nics[" + prev + "]");
            }
        }
    }

    static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    /** Builds a configuration in code; {@link #build()} validates it. */
    public static final class Builder {
        private MachineConfig machine = MachineConfig.defaults();
        private IrqConfig irq = IrqConfig.defaults();
        private GicConfig gic = GicConfig.defaults();
        private NetConfig net = NetConfig.defaults();
        private final List<NicConfig> nics = new ArrayList<>();
        private GuestConfig guest = GuestConfig.of("idle");
        private TraceConfig trace = TraceConfig.none();

        public Builder machine(MachineConfig m) {
            machine = m;
            return this;
        }

        public Builder vcpus(int n) {
            machine = machine.withVcpus(n);
            return this;
        }

        public Builder memorySize(long bytes) {
            machine = machine.withMemorySize(bytes);
            return this;
        }

        public Builder irq(IrqConfig i) {
            irq = i;
            return this;
        }

        public Builder gic(GicConfig g) {
            gic = g;
            return this;
        }

        public Builder cache(CacheStrategy c) {
            gic = gic.withCache(c);
            return this;
        }

        public Builder net(NetConfig n) {
            net = n;
            return this;
        }

        public Builder nic(NicConfig n) {
            nics.add(n);
            return this;
        }

        public Builder guest(GuestConfig g) {
            guest = g;
            return this;
        }

        public Builder trace(TraceConfig t) {
            trace = t;
            return this;
        }

        public VmConfig build() {
            return new VmConfig(ConfigSource.code(), machine, irq, gic, net, nics, guest, trace).validate();
        }
    }
}
