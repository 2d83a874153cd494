package dev.jvmm.core.config;

import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One value of a configuration file as a {@link ConfigSection} reads it: a mapping of keys, a list, or a single
 * value, with its key path ({@code nics[1]}) and line. Every typed getter turns a bad value into a
 * {@link ConfigException} that names the file, the line and the key, so a section never formats a location itself.
 *
 * <p>A mapping remembers which keys were asked for; {@link #rejectUnknown()} then reports any other key as a typo
 * (the loader calls it on every section's node after {@link ConfigSection#parse}; a section calls it on the nested
 * mappings it reads, such as each item of a list).
 *
 * <pre>{@code
 * GicConfig parse(ConfigNode gic) {
 *     int its = gic.integer("its-count", 1);
 *     String cache = gic.choice("cache", "per-its", "none", "global-lru", "sharded", "per-its");
 *     ...
 * }
 * }</pre>
 */
public final class ConfigNode {

    /** What every node of one file shares: its name and the line of every key read so far. */
    static final class Document {
        final String file;
        final Map<String, Integer> lines = new LinkedHashMap<>();

        Document(String file) {
            this.file = file;
        }
    }

    private final Document document;
    private final String key;
    private final Node node;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
    private final Set<String> known = new LinkedHashSet<>();

    ConfigNode(Document document, String key, Node node) {
        this.document = document;
        this.key = key;
        this.node = node;
        if (node instanceof MappingNode) {
            for (NodeTuple t : ((MappingNode) node).getValue()) {
                String k = scalarText(t.getKeyNode(), key.isEmpty() ? "the file" : key);
                if (entries.putIfAbsent(k, t) != null) {
                    throw new ConfigException(document.file, line(t.getKeyNode()), child(k), "the key appears twice");
                }
                document.lines.put(child(k), line(t.getKeyNode()));
            }
        }
    }

    /** The key path of this node, e.g. {@code nics[1]} or {@code gic}. */
    public String key() {
        return key;
    }

    /** The key path of {@code k} in this mapping, e.g. {@code gic.cache}. */
    public String child(String k) {
        return key.isEmpty() ? k : key + "." + k;
    }

    /** The 1-based line of this node, 0 when unknown. */
    public int line() {
        return line(node);
    }

    public boolean isMapping() {
        return node instanceof MappingNode;
    }

    public boolean isList() {
        return node instanceof SequenceNode;
    }

    // ------------------------------------------------------------------------------------------------ errors

    /** A problem with this node's value. */
    public ConfigException error(String problem) {
        return new ConfigException(document.file, line(), key, problem);
    }

    /** A problem with key {@code k} of this mapping (at its value's line, or this node's when it is absent). */
    public ConfigException error(String k, String problem) {
        NodeTuple t = entries.get(k);
        return new ConfigException(document.file, t == null ? line() : line(t.getValueNode()), child(k), problem);
    }

    // ------------------------------------------------------------------------------------------------ structure

    /** This node as a mapping; throws when it is a list or a single value. */
    public ConfigNode requireMapping() {
        if (!isMapping()) {
            throw error("must be a mapping of 'key: value' lines");
        }
        return this;
    }

    /** Whether key {@code k} is written with a value (not absent, not {@code k:} with nothing after it). */
    public boolean has(String k) {
        return get(k) != null;
    }

    /** The value of {@code k}, or null when it is absent or written empty. Marks {@code k} as known. */
    public ConfigNode get(String k) {
        if (node != null && !isMapping()) {
            throw error("must be a mapping of 'key: value' lines");
        }
        known.add(k);
        NodeTuple t = entries.get(k);
        if (t == null) {
            return null;
        }
        Node v = t.getValueNode();
        if (v instanceof ScalarNode && "tag:yaml.org,2002:null".equals(v.getTag().getValue())) {
            return null;
        }
        return new ConfigNode(document, child(k), v);
    }

    /** The mapping under {@code k}; an empty mapping when {@code k} is absent. */
    public ConfigNode mapping(String k) {
        ConfigNode n = get(k);
        return n == null ? new ConfigNode(document, child(k), null) : n.requireMapping();
    }

    /** The items of this list, each with its key path {@code key[i]}. */
    public List<ConfigNode> items() {
        if (!isList()) {
            throw error("must be a list (each item starting with '- ')");
        }
        List<Node> values = ((SequenceNode) node).getValue();
        List<ConfigNode> out = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            String itemKey = key + "[" + i + "]";
            document.lines.put(itemKey, line(values.get(i)));
            out.add(new ConfigNode(document, itemKey, values.get(i)));
        }
        return out;
    }

    /** The keys written in this mapping, in file order. */
    public List<String> keys() {
        return List.copyOf(entries.keySet());
    }

    /** A mapping of plain values under {@code k} (program options, say), in file order; empty when absent. */
    public Map<String, String> values(String k) {
        ConfigNode m = mapping(k);
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : m.keys()) {
            out.put(name, m.get(name).text());
        }
        return out;
    }

    /** Every key written but never asked for is an error: a typo must not be silently ignored. */
    public void rejectUnknown() {
        for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
            if (!known.contains(e.getKey())) {
                String where = key.isEmpty() ? "top level" : "'" + key + "'";
                throw new ConfigException(document.file, line(e.getValue().getKeyNode()), child(e.getKey()),
                        "unknown key in " + where + "; known keys are " + String.join(", ", known));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ values

    /** This node's single value, trimmed. */
    public String text() {
        return scalarText(node, key).trim();
    }

    /** {@code k}'s value parsed by {@code parser}, whose {@link IllegalArgumentException} names the problem. */
    public <T> T value(String k, T fallback, Function<String, T> parser) {
        ConfigNode n = get(k);
        if (n == null) {
            return fallback;
        }
        String v = n.text();
        try {
            return parser.apply(v);
        } catch (IllegalArgumentException e) {
            throw n.error(e.getMessage());
        }
    }

    public String string(String k, String fallback) {
        ConfigNode n = get(k);
        return n == null ? fallback : n.text();
    }

    /** One of {@code allowed}. */
    public String choice(String k, String fallback, String... allowed) {
        String v = string(k, fallback);
        for (String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw error(k, "must be one of " + String.join(", ", allowed) + ", got '" + v + "'");
    }

    /** A whole number, decimal or {@code 0x} hexadecimal, {@code _} allowed between digits. */
    public int integer(String k, int fallback) {
        return value(k, fallback, v -> {
            String s = v.replace("_", "");
            long x;
            try {
                x = s.startsWith("0x") || s.startsWith("0X") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("must be a whole number, got '" + v + "'");
            }
            if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("number " + v + " is out of range");
            }
            return (int) x;
        });
    }

    public boolean bool(String k, boolean fallback) {
        return value(k, fallback, v -> {
            if (v.equals("true")) {
                return true;
            }
            if (v.equals("false")) {
                return false;
            }
            throw new IllegalArgumentException("must be true or false, got '" + v + "'");
        });
    }

    /** A size in bytes ({@link ConfigValues#sizeBytes}). */
    public long size(String k, long fallback) {
        return value(k, fallback, ConfigValues::sizeBytes);
    }

    /** A duration in nanoseconds ({@link ConfigValues#durationNanos(String)}). */
    public long duration(String k, long fallback) {
        return value(k, fallback, ConfigValues::durationNanos);
    }

    /** A socket address ({@link ConfigValues#socketAddress}). */
    public InetSocketAddress socketAddress(String k, InetSocketAddress fallback) {
        return value(k, fallback, ConfigValues::socketAddress);
    }

    // ------------------------------------------------------------------------------------------------ internals

    private String scalarText(Node n, String at) {
        if (n instanceof ScalarNode) {
            return ((ScalarNode) n).getValue();
        }
        throw new ConfigException(document.file, line(n), at, "must be a single value, not a list or a mapping");
    }

    static int line(Node n) {
        return n == null || n.getStartMark() == null ? 0 : n.getStartMark().getLine() + 1;
    }

    Document document() {
        return document;
    }

    @Override
    public String toString() {
        return "ConfigNode[" + (key.isEmpty() ? "top level" : key) + "]";
    }
}
