package dev.jvmm.core.config;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a machine configuration from YAML into a validated {@link VmConfig}: core's {@code machine} and {@code irq}
 * sections, and the {@link ConfigSection}s of the modules the assembler hands it. Every problem (a syntax error, an
 * unknown key, a value of the wrong kind, a relation between values) becomes one {@link ConfigException} that names
 * the file, the line and the key.
 *
 * <pre>{@code
 * ConfigLoader loader = ConfigLoader.of(GicConfig.SECTION, NetConfig.SECTION, NicConfig.SECTION, ToyGuestConfig.SECTION);
 * VmConfig config = loader.load(Path.of("configs/toy-guest.yaml"));
 * }</pre>
 *
 * The file is a mapping of sections; core reads these two, each module documents its own:
 * <pre>
 * machine: {vcpus: 2, memory: 256M, strict-mmio: false}    # memory: a size, or a list of {base, size}
 * irq:     {mode: inline, halt-poll: 200us, halt-poll-adaptive: false, halt-poll-yield: true, injector-spin: 0}
 * </pre>
 */
public final class ConfigLoader {

    private final List<ConfigSection<?>> sections;

    private ConfigLoader(List<ConfigSection<?>> sections) {
        Map<String, ConfigSection<?>> plain = new LinkedHashMap<>();
        for (ConfigSection<?> s : sections) {
            if (s.key().equals(MachineConfig.SECTION.key()) || s.key().equals(IrqConfig.SECTION.key())) {
                throw new IllegalArgumentException("section '" + s.key() + "' belongs to core");
            }
            if (s.selector() == null && plain.put(s.key(), s) != null) {
                throw new IllegalArgumentException("two sections own key '" + s.key() + "' and neither names a selector");
            }
        }
        this.sections = List.copyOf(sections);
    }

    /** A loader for core's sections and {@code sections}, in this order (the order of messages and validation). */
    public static ConfigLoader of(ConfigSection<?>... sections) {
        return new ConfigLoader(List.of(sections));
    }

    public static ConfigLoader of(List<ConfigSection<?>> sections) {
        return new ConfigLoader(sections);
    }

    /** Reads and validates {@code path}. A missing or unreadable file is a {@link ConfigException} too. */
    public VmConfig load(Path path) {
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
    public VmConfig parse(String yaml, String fileName) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        options.setCodePointLimit(1 << 20);
        Node root;
        try {
            root = new Yaml(options).compose(new StringReader(yaml));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 0;
            throw new ConfigException(fileName, line, null, "not valid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(fileName, 0, null, "not valid YAML: " + e.getMessage());
        }
        if (root == null) {
            throw new ConfigException(fileName, 0, null, "the file is empty");
        }
        ConfigNode.Document doc = new ConfigNode.Document(fileName);
        ConfigNode top = new ConfigNode(doc, "", root);
        if (!top.isMapping()) {
            throw new ConfigException(fileName, ConfigNode.line(root), "the file", "must be a mapping of 'key: value' lines");
        }
        MachineConfig machine = read(top, MachineConfig.SECTION);
        IrqConfig irq = read(top, IrqConfig.SECTION);
        Map<ConfigSection<?>, Object> values = new LinkedHashMap<>();
        for (List<ConfigSection<?>> owners : byKey().values()) {
            ConfigSection<?> chosen = choose(top, owners);
            values.put(chosen, read(top, chosen));
        }
        top.rejectUnknown();
        return new VmConfig(new ConfigSource(fileName, doc.lines), machine, irq, values).validate();
    }

    /** The registered sections grouped by key, in registration order. */
    private Map<String, List<ConfigSection<?>>> byKey() {
        Map<String, List<ConfigSection<?>>> out = new LinkedHashMap<>();
        for (ConfigSection<?> s : sections) {
            out.computeIfAbsent(s.key(), k -> new ArrayList<>()).add(s);
        }
        return out;
    }

    /** The section that owns the key: the only one, or the one whose selector is written (the first by default). */
    private static ConfigSection<?> choose(ConfigNode top, List<ConfigSection<?>> owners) {
        if (owners.size() == 1) {
            return owners.get(0);
        }
        String key = owners.get(0).key();
        ConfigNode node = top.get(key);
        if (node == null || !node.isMapping()) {
            return owners.get(0);
        }
        ConfigSection<?> chosen = null;
        List<String> written = node.keys();
        for (ConfigSection<?> s : owners) {
            if (written.contains(s.selector())) {
                if (chosen != null) {
                    throw node.error(s.selector(), "'" + key + "' names either " + chosen.selector() + " or "
                            + s.selector() + ", not both");
                }
                chosen = s;
            }
        }
        return chosen != null ? chosen : owners.get(0);
    }

    private static <T> T read(ConfigNode top, ConfigSection<T> section) {
        ConfigNode node = top.get(section.key());
        if (node == null) {
            return section.defaults();
        }
        T value = section.parse(node);
        if (node.isMapping()) {
            node.rejectUnknown();
        }
        return value;
    }
}
