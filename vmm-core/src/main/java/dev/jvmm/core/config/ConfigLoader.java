package dev.jvmm.core.config;

import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.RamRegion;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.IOException;
import java.io.StringReader;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a machine configuration from YAML into a validated {@link VmConfig}. Every problem (a syntax error, an
 * unknown key, a value of the wrong kind, a relation between values) becomes one {@link ConfigException} that
 * names the file, the line and the key. The shipped files in {@code configs/} document every key.
 *
 * <pre>
 * machine: {vcpus: 2, memory: 256M, strict-mmio: false}    # memory: a size, or a list of {base, size}
 * irq:     {mode: inline, halt-poll: 200us, halt-poll-adaptive: false, halt-poll-yield: true, injector-spin: 0}
 * gic:     {its-count: 1, cache: per-its, cache-shards: 8, cache-entries-per-vcpu: 16}
 * net:     {transport: auto, event-loop-threads: 1, socket-receive-buffer: 0}   # 0: the kernel's default
 * nics:
 *   - {id: net0, backend: udp, listen: 127.0.0.1:5001, guest-port: 5001, mac: 52:54:00:12:34:56, ...}
 * guest:   {program: udp-sink, options: {report-every: 1s}}
 * trace:   {dir: /tmp/trace}
 * </pre>
 */
public final class ConfigLoader {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]?)(i?B)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ns|us|µs|ms|s)?");

    private final String file;
    private final Map<String, Integer> lines = new HashMap<>();

    private ConfigLoader(String file) {
        this.file = file;
    }

    /** Reads and validates {@code path}. A missing or unreadable file is a {@link ConfigException} too. */
    public static VmConfig load(Path path) {
        String name = path.toString();
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(name, 0, null, "no such file");
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ConfigException(name, 0, null, "the file is not UTF-8 text");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new ConfigException(name, 0, null, "permission denied");
        } catch (IOException e) {
            throw new ConfigException(name, 0, null, "cannot read the file: " + e.getMessage());
        }
        return parse(text, name);
    }

    /** Parses and validates YAML text; {@code fileName} appears in messages. */
    public static VmConfig parse(String yaml, String fileName) {
        return new ConfigLoader(fileName).read(yaml);
    }

    private VmConfig read(String yaml) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        options.setCodePointLimit(1 << 20);
        Node root;
        try {
            root = new Yaml(options).compose(new StringReader(yaml));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 0;
            throw new ConfigException(file, line, null, "not valid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(file, 0, null, "not valid YAML: " + e.getMessage());
        }
        if (root == null) {
            throw new ConfigException(file, 0, null, "the file is empty");
        }
        Section top = new Section(mapping(root, "the file"), "");
        MachineConfig machine = machine(top.section("machine"));
        IrqConfig irq = irq(top.section("irq"));
        GicConfig gic = gic(top.section("gic"));
        NetConfig net = net(top.section("net"));
        List<NicConfig> nics = nics(top);
        GuestConfig guest = guest(top.section("guest"));
        TraceConfig trace = trace(top.section("trace"));
        top.rejectUnknown();
        return new VmConfig(new ConfigSource(file, lines), machine, irq, gic, net, nics, guest, trace).validate();
    }

    // ------------------------------------------------------------------------------------------------ sections

    private MachineConfig machine(Section s) {
        MachineConfig d = MachineConfig.defaults();
        int vcpus = s.integer("vcpus", d.vcpus());
        List<RamRegion> memory = d.memory();
        Node mem = s.node("memory");
        if (mem instanceof ScalarNode) {
            memory = List.of(region(MemoryMap.RAM_BASE, size(s.key("memory"), mem), s.key("memory"), mem));
        } else if (mem instanceof SequenceNode) {
            List<RamRegion> list = new ArrayList<>();
            List<Node> items = ((SequenceNode) mem).getValue();
            for (int i = 0; i < items.size(); i++) {
                Section r = new Section(mapping(items.get(i), s.key("memory") + "[" + i + "]"),
                        s.key("memory") + "[" + i + "]");
                lines.put(r.prefix, line(items.get(i)));
                long base = r.address("base", MemoryMap.RAM_BASE);
                long size = r.size("size", -1);
                if (size < 0) {
                    throw error(r.key("size"), items.get(i), "each RAM region needs a size");
                }
                list.add(region(base, size, r.prefix, items.get(i)));
                r.rejectUnknown();
            }
            memory = list;
        } else if (mem != null) {
            throw error(s.key("memory"), mem, "must be a size such as 256M, or a list of {base, size} regions");
        }
        boolean strict = s.bool("strict-mmio", d.strictMmio());
        s.rejectUnknown();
        return new MachineConfig(vcpus, memory, strict);
    }

    private RamRegion region(long base, long size, String key, Node at) {
        try {
            return new RamRegion(base, size);
        } catch (IllegalArgumentException e) {
            throw error(key, at, e.getMessage());
        }
    }

    private IrqConfig irq(Section s) {
        IrqConfig d = IrqConfig.defaults();
        String mode = s.choice("mode", d.mode().configName(), "inline", "worker");
        long haltPoll = s.duration("halt-poll", d.haltPollNanos());
        long spin = s.duration("injector-spin", d.injectorSpinNanos());
        boolean adaptive = s.bool("halt-poll-adaptive", d.haltPollAdaptive());
        boolean yield = s.bool("halt-poll-yield", d.haltPollYield());
        s.rejectUnknown();
        return new IrqConfig(InjectionMode.valueOf(mode.toUpperCase(Locale.ROOT)), haltPoll, spin, adaptive, yield);
    }

    private GicConfig gic(Section s) {
        GicConfig d = GicConfig.defaults();
        int its = s.integer("its-count", d.itsCount());
        String cache = s.choice("cache", d.cache().configName(), "none", "global-lru", "sharded", "per-its");
        int shards = s.integer("cache-shards", d.cacheShards());
        int perVcpu = s.integer("cache-entries-per-vcpu", d.cacheEntriesPerVcpu());
        s.rejectUnknown();
        return new GicConfig(its, CacheStrategy.fromConfigName(cache), shards, perVcpu);
    }

    private NetConfig net(Section s) {
        NetConfig d = NetConfig.defaults();
        String transport = s.choice("transport", d.transport().configName(), "auto", "epoll", "nio");
        int threads = s.integer("event-loop-threads", d.eventLoopThreads());
        long rcvbuf = s.size("socket-receive-buffer", d.socketReceiveBuffer());
        if (rcvbuf > Integer.MAX_VALUE) {
            throw error(s.key("socket-receive-buffer"), s.node("socket-receive-buffer"),
                    "must be at most 2G - 1 bytes, got " + rcvbuf);
        }
        s.rejectUnknown();
        return new NetConfig(NetConfig.Transport.valueOf(transport.toUpperCase(Locale.ROOT)), threads, rcvbuf);
    }

    private List<NicConfig> nics(Section top) {
        Node n = top.node("nics");
        if (n == null) {
            return List.of();
        }
        if (!(n instanceof SequenceNode)) {
            throw error("nics", n, "must be a list of NICs (each item starting with '- ')");
        }
        List<NicConfig> out = new ArrayList<>();
        List<Node> items = ((SequenceNode) n).getValue();
        for (int i = 0; i < items.size(); i++) {
            String key = "nics[" + i + "]";
            Section s = new Section(mapping(items.get(i), key), key);
            lines.put(key, line(items.get(i)));
            NicConfig d = NicConfig.udp(i, 0);
            String id = s.string("id", d.id());
            String backendName = s.choice("backend", "udp", "udp", "udp-tunnel");
            NicConfig.NicBackend backend = NicConfig.NicBackend.fromConfigName(backendName);
            InetSocketAddress listen = s.socketAddress("listen", null);
            if (listen == null) {
                throw error(key, items.get(i), "a NIC needs 'listen: host:port' (the host UDP socket it reads)");
            }
            InetSocketAddress remote = s.socketAddress("remote", null);
            MacAddress mac = s.mac("mac", MacAddress.qemuDefault(i));
            Inet4Address guestIp = s.ipv4("guest-ip", d.guestIp());
            Inet4Address gatewayIp = s.ipv4("gateway-ip", d.gatewayIp());
            int guestPort = s.integer("guest-port", listen.getPort() == 0 ? 5001 : listen.getPort());
            int queueSize = s.integer("queue-size", d.queueSize());
            int pairs = s.integer("queue-pairs", d.queuePairs());
            boolean mrg = s.bool("mrg-rxbuf", d.mrgRxbuf());
            int slot = s.integer("slot", i);
            int deviceId = s.integer("device-id", slot);
            int its = s.integer("its", 0);
            s.rejectUnknown();
            out.add(new NicConfig(id, backend, listen, remote, mac, guestIp, gatewayIp, guestPort, queueSize, pairs,
                    mrg, slot, deviceId, its));
        }
        return out;
    }

    private GuestConfig guest(Section s) {
        String program = s.string("program", "idle");
        Map<String, String> options = new LinkedHashMap<>();
        Node o = s.node("options");
        if (o != null) {
            MappingNode m = mapping(o, s.key("options"));
            for (NodeTuple t : m.getValue()) {
                String k = scalar(t.getKeyNode(), s.key("options"));
                Node v = t.getValueNode();
                if (!(v instanceof ScalarNode)) {
                    throw error(s.key("options") + "." + k, v, "guest options are plain values");
                }
                lines.put(s.key("options") + "." + k, line(t.getKeyNode()));
                options.put(k, ((ScalarNode) v).getValue());
            }
        }
        s.rejectUnknown();
        return new GuestConfig(program, options);
    }

    private TraceConfig trace(Section s) {
        String dir = s.string("dir", null);
        s.rejectUnknown();
        return new TraceConfig(dir == null ? null : Path.of(dir));
    }

    // ------------------------------------------------------------------------------------------------ values

    private long size(String key, Node n) {
        try {
            return sizeBytes(scalar(n, key));
        } catch (IllegalArgumentException e) {
            throw error(key, n, e.getMessage());
        }
    }

    /**
     * A configuration size in bytes: a number with an optional binary unit ({@code K}, {@code M}, {@code G},
     * {@code T}; {@code 4M}, {@code 4MiB}), or hexadecimal ({@code 0x1000}). Program options use the same spelling.
     *
     * @throws IllegalArgumentException with the problem, for a message naming the key or option
     */
    public static long sizeBytes(String text) {
        String v = text.trim();
        try {
            if (v.startsWith("0x") || v.startsWith("0X")) {
                return Long.parseUnsignedLong(v.substring(2).replace("_", ""), 16);
            }
            Matcher m = SIZE.matcher(v.replace("_", ""));
            if (m.matches()) {
                long base = Long.parseLong(m.group(1));
                int shift;
                switch (m.group(2).toUpperCase(Locale.ROOT)) {
                    case "K": shift = 10; break;
                    case "M": shift = 20; break;
                    case "G": shift = 30; break;
                    case "T": shift = 40; break;
                    default: shift = 0;
                }
                if (base > (Long.MAX_VALUE >> shift)) {
                    throw new IllegalArgumentException("size " + v + " is too large");
                }
                return base << shift;
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException("must be a size such as 256M, 1G, 4096 or 0x1000, got '" + v + "'");
    }

    private long duration(String key, Node n) {
        try {
            return durationNanos(scalar(n, key));
        } catch (IllegalArgumentException e) {
            throw error(key, n, e.getMessage());
        }
    }

    /**
     * A configuration duration in nanoseconds: a number with a unit ({@code ns}, {@code us}, {@code ms}, {@code s}),
     * or a bare {@code 0}. Program options use the same spelling.
     *
     * @throws IllegalArgumentException with the problem, for a message naming the key
     */
    public static long durationNanos(String text) {
        String v = text.trim();
        Matcher m = DURATION.matcher(v.replace("_", ""));
        if (!m.matches()) {
            throw new IllegalArgumentException("must be a duration such as 200us, 1ms or 0, got '" + v + "'");
        }
        try {
            long amount = Long.parseLong(m.group(1));
            String unit = m.group(2);
            if (unit == null) {
                if (amount == 0) {
                    return 0;
                }
                throw new IllegalArgumentException("a duration needs a unit (ns, us, ms or s), got '" + v + "'");
            }
            switch (unit) {
                case "ns": return amount;
                case "us":
                case "µs": return Math.multiplyExact(amount, 1_000L);
                case "ms": return Math.multiplyExact(amount, 1_000_000L);
                default: return Math.multiplyExact(amount, 1_000_000_000L);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("duration " + v + " is too large");
        }
    }

    private ConfigException error(String key, Node at, String problem) {
        return new ConfigException(file, at == null ? 0 : line(at), key, problem);
    }

    private static int line(Node n) {
        return n.getStartMark() == null ? 0 : n.getStartMark().getLine() + 1;
    }

    private MappingNode mapping(Node n, String what) {
        if (n instanceof MappingNode) {
            return (MappingNode) n;
        }
        throw error(what, n, "must be a mapping of 'key: value' lines");
    }

    private String scalar(Node n, String key) {
        if (n instanceof ScalarNode) {
            return ((ScalarNode) n).getValue();
        }
        throw error(key, n, "must be a single value, not a list or a mapping");
    }

    /** One mapping of the file, with the keys read from it so far (any other key is unknown). */
    private final class Section {
        final String prefix;
        final Map<String, NodeTuple> entries = new LinkedHashMap<>();
        final Set<String> used = new LinkedHashSet<>();
        final Set<String> known = new LinkedHashSet<>();

        Section(MappingNode node, String prefix) {
            this.prefix = prefix;
            if (node != null) {
                for (NodeTuple t : node.getValue()) {
                    String k = scalar(t.getKeyNode(), prefix.isEmpty() ? "the file" : prefix);
                    if (entries.putIfAbsent(k, t) != null) {
                        throw error(key(k), t.getKeyNode(), "the key appears twice");
                    }
                    lines.put(key(k), line(t.getKeyNode()));
                }
            }
        }

        String key(String k) {
            return prefix.isEmpty() ? k : prefix + "." + k;
        }

        /** The value node of {@code k}, or null when absent or written empty ({@code key:} with nothing after). */
        Node node(String k) {
            known.add(k);
            NodeTuple t = entries.get(k);
            if (t == null) {
                return null;
            }
            used.add(k);
            Node v = t.getValueNode();
            if (v instanceof ScalarNode && "tag:yaml.org,2002:null".equals(v.getTag().getValue())) {
                return null;
            }
            return v;
        }

        Section section(String k) {
            Node n = node(k);
            return new Section(n == null ? null : mapping(n, key(k)), key(k));
        }

        String string(String k, String fallback) {
            Node n = node(k);
            return n == null ? fallback : scalar(n, key(k)).trim();
        }

        String choice(String k, String fallback, String... allowed) {
            String v = string(k, fallback);
            for (String a : allowed) {
                if (a.equals(v)) {
                    return v;
                }
            }
            throw error(key(k), node(k), "must be one of " + String.join(", ", allowed) + ", got '" + v + "'");
        }

        int integer(String k, int fallback) {
            Node n = node(k);
            if (n == null) {
                return fallback;
            }
            String v = scalar(n, key(k)).trim().replace("_", "");
            try {
                long x = v.startsWith("0x") || v.startsWith("0X") ? Long.parseLong(v.substring(2), 16) : Long.parseLong(v);
                if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
                    throw error(key(k), n, "number " + v + " is out of range");
                }
                return (int) x;
            } catch (NumberFormatException e) {
                throw error(key(k), n, "must be a whole number, got '" + v + "'");
            }
        }

        long address(String k, long fallback) {
            Node n = node(k);
            return n == null ? fallback : ConfigLoader.this.size(key(k), n);
        }

        long size(String k, long fallback) {
            Node n = node(k);
            return n == null ? fallback : ConfigLoader.this.size(key(k), n);
        }

        long duration(String k, long fallback) {
            Node n = node(k);
            return n == null ? fallback : ConfigLoader.this.duration(key(k), n);
        }

        boolean bool(String k, boolean fallback) {
            Node n = node(k);
            if (n == null) {
                return fallback;
            }
            String v = scalar(n, key(k)).trim();
            if (v.equals("true")) {
                return true;
            }
            if (v.equals("false")) {
                return false;
            }
            throw error(key(k), n, "must be true or false, got '" + v + "'");
        }

        MacAddress mac(String k, MacAddress fallback) {
            Node n = node(k);
            if (n == null) {
                return fallback;
            }
            String v = scalar(n, key(k)).trim();
            MacAddress m = MacAddress.parse(v);
            if (m == null) {
                throw error(key(k), n, "must be a MAC address such as 52:54:00:12:34:56, got '" + v + "'");
            }
            return m;
        }

        Inet4Address ipv4(String k, Inet4Address fallback) {
            Node n = node(k);
            if (n == null) {
                return fallback;
            }
            String v = scalar(n, key(k)).trim();
            if (!v.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
                throw error(key(k), n, "must be an IPv4 address such as 10.0.2.15, got '" + v + "'");
            }
            try {
                InetAddress a = InetAddress.getByName(v);
                if (a instanceof Inet4Address) {
                    return (Inet4Address) a;
                }
            } catch (UnknownHostException e) {
                // fall through
            }
            throw error(key(k), n, "must be an IPv4 address such as 10.0.2.15, got '" + v + "'");
        }

        /** {@code host:port}, {@code [v6]:port}, or a bare port (bound to 127.0.0.1). */
        InetSocketAddress socketAddress(String k, InetSocketAddress fallback) {
            Node n = node(k);
            if (n == null) {
                return fallback;
            }
            String v = scalar(n, key(k)).trim();
            String host = "127.0.0.1";
            String port = v;
            int colon = v.lastIndexOf(':');
            if (colon >= 0) {
                host = v.substring(0, colon);
                port = v.substring(colon + 1);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
            }
            int p;
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw error(key(k), n, "must be host:port such as 127.0.0.1:5001, got '" + v + "'");
            }
            if (p < 0 || p > 65535) {
                throw error(key(k), n, "port " + p + " is outside 0..65535");
            }
            if (host.isEmpty()) {
                throw error(key(k), n, "must be host:port such as 127.0.0.1:5001, got '" + v + "'");
            }
            try {
                return new InetSocketAddress(InetAddress.getByName(host), p);
            } catch (UnknownHostException e) {
                throw error(key(k), n, "cannot resolve host '" + host + "'");
            }
        }

        /** Every key written but never asked for is an error (a typo must not be silently ignored). */
        void rejectUnknown() {
            for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
                if (!known.contains(e.getKey())) {
                    String where = prefix.isEmpty() ? "top level" : "'" + prefix + "'";
                    throw error(key(e.getKey()), e.getValue().getKeyNode(), "unknown key in " + where
                            + "; known keys are " + String.join(", ", known));
                }
            }
        }
    }
}
