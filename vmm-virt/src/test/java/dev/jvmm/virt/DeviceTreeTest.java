package dev.jvmm.virt;

import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.testing.HostTools;
import dev.jvmm.net.MacAddress;
import dev.jvmm.net.NicConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The board's device tree against the one QEMU generates for the same machine ({@code qemu-system-aarch64 -M
 * virt,gic-version=3,dumpdtb=FILE}), both decompiled by {@code dtc}: node by node, property by property (phandle
 * values compared by the node they name), for every node jvmm has. The nodes of QEMU's board that jvmm leaves out are
 * listed here by name, so that a node appearing or disappearing on either side fails the test. Skipped when QEMU or
 * dtc is not installed.
 */
class DeviceTreeTest {

    /** QEMU's nodes for devices jvmm leaves out (VirtBoard says why), and the virtio slots that hold nothing. */
    static final Pattern LEFT_OUT = Pattern.compile("/(flash@0|fw-cfg@9020000|pl031@9010000|pl061@9030000|gpio-keys"
            + "(/poweroff)?|pcie@10000000|platform-bus@c000000|pmu|virtio_mmio@a00[0-3][0-9a-f]{2}0?)");
    /** Properties whose value is random at every boot on both: compared by presence only. */
    static final Set<String> RANDOM = Set.of("/chosen:rng-seed", "/chosen:kaslr-seed");
    /** Properties holding phandles: compared by the path of the node they name (and the cells after it). */
    static final Set<String> PHANDLE_REFS = Set.of("interrupt-parent", "clocks", "cpu", "msi-parent");

    static boolean tools() {
        return HostTools.installed("qemu-system-aarch64") && HostTools.installed("dtc");
    }

    private static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The machine: NIC i in slot 31 - i (QEMU's order), in MSI mode, or wired from {@code wiredFrom} on. */
    static VmConfig config(int smp, String memory, int nics, String append, int wiredFrom) {
        List<NicConfig> list = new ArrayList<>();
        for (int i = 0; i < nics; i++) {
            list.add(NicConfig.builder(31 - i).listen(new InetSocketAddress("127.0.0.1", 0)).guestPort(5001)
                    .mac(MacAddress.qemuDefault(i))
                    .interrupt(i >= wiredFrom ? NicConfig.NicInterrupt.WIRED : NicConfig.NicInterrupt.MSI).build());
        }
        return VmConfig.builder().vcpus(smp).memorySize(ConfigValues.sizeBytes(memory)).with(NicConfig.SECTION, list)
                .with(KernelConfig.SECTION, KernelConfig.of(GuestCase.GUESTS.resolve("boot-info/boot-info.elf"))
                        .withAppend(append)).build();
    }

    static byte[] jvmmTree(VmConfig config) {
        try (VirtMachine vm = VirtMachine.builder(config).console(SerialConsole.none()).build()) {
            return vm.deviceTree();
        }
    }

    static byte[] qemuTree(int smp, String memory, int nics, String append, Path dtb) throws IOException {
        Path f = Files.createTempFile("qemu-virt", ".dtb");
        try {
            List<String> cmd = new ArrayList<>(List.of("qemu-system-aarch64", "-M", "virt,gic-version=3,dumpdtb=" + f,
                    "-cpu", "cortex-a57", "-m", memory, "-smp", String.valueOf(smp), "-nographic",
                    "-kernel", GuestCase.GUESTS.resolve("boot-info/boot-info.elf").toString()));
            if (!append.isEmpty()) {
                cmd.addAll(List.of("-append", append));
            }
            if (dtb != null) {
                cmd.addAll(List.of("-dtb", dtb.toString()));
            }
            for (int i = 0; i < nics; i++) {
                cmd.addAll(List.of("-netdev", "user,id=n" + i, "-device", "virtio-net-device,netdev=n" + i));
            }
            assertThat(run(cmd)).as("QEMU dumps its tree: %s", cmd).isNotNull();
            return Files.readAllBytes(f);
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /** {@code dtc -I dtb -O dts} of {@code blob}, as path -> property -> value text. */
    static Map<String, Map<String, String>> decompile(byte[] blob) throws IOException {
        Path f = Files.createTempFile("tree", ".dtb");
        try {
            Files.write(f, blob);
            String dts = run(List.of("dtc", "-q", "-I", "dtb", "-O", "dts", f.toString()));
            assertThat(dts).as("dtc decompiles the blob").isNotNull();
            return parseDts(dts);
        } finally {
            Files.deleteIfExists(f);
        }
    }

    static Map<String, Map<String, String>> parseDts(String dts) {
        Map<String, Map<String, String>> nodes = new TreeMap<>();
        List<String> path = new ArrayList<>();
        Pattern prop = Pattern.compile("^([^=]+?)(?: = (.*))?;$");
        for (String raw : dts.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("/dts-v1/") || line.startsWith("/memreserve/")) {
                continue;
            }
            if (line.endsWith("{")) {
                String name = line.substring(0, line.length() - 1).strip();
                path.add(name.equals("/") ? "" : name);
                nodes.put(pathOf(path), new LinkedHashMap<>());
            } else if (line.equals("};")) {
                path.remove(path.size() - 1);
            } else {
                Matcher m = prop.matcher(line);
                assertThat(m.matches()).as("a dtc line: %s", line).isTrue();
                nodes.get(pathOf(path)).put(m.group(1), m.group(2) == null ? "" : m.group(2));
            }
        }
        return nodes;
    }

    private static String pathOf(List<String> parts) {
        return parts.size() <= 1 ? "/" : String.join("/", parts);
    }

    /** Phandle-valued properties rewritten to name the node they point at, phandle properties themselves dropped. */
    static Map<String, Map<String, String>> resolvePhandles(Map<String, Map<String, String>> tree) {
        Map<String, String> byPhandle = new HashMap<>();
        tree.forEach((path, props) -> {
            String p = props.get("phandle");
            if (p != null) {
                byPhandle.put(p.replaceAll("[<>]", "").strip(), path);
            }
        });
        Map<String, Map<String, String>> out = new TreeMap<>();
        tree.forEach((path, props) -> {
            Map<String, String> np = new LinkedHashMap<>();
            props.forEach((k, v) -> {
                if (k.equals("phandle")) {
                    return;
                }
                if (PHANDLE_REFS.contains(k)) {
                    String[] cells = v.replaceAll("[<>]", "").strip().split("\\s+");
                    StringBuilder sb = new StringBuilder();
                    boolean phandleNext = true;
                    for (String c : cells) {
                        // clocks: every cell is a phandle; msi-parent: phandle then the DeviceID
                        sb.append(phandleNext ? byPhandle.getOrDefault(c, "?" + c) : c).append(' ');
                        phandleNext = k.equals("clocks");
                    }
                    v = sb.toString().strip();
                }
                np.put(k, v);
            });
            out.put(path, np);
        });
        return out;
    }

    @ParameterizedTest(name = "-smp {0} -m {1}, {2} NIC(s) (wired from NIC {4}), -append \"{3}\"")
    @CsvSource(value = {"1, 128M, 0, '', 0", "2, 256M, 1, 'console=ttyAMA0 first=1', 1", "4, 1G, 2, 'a b c', 1",
        "8, 3G, 1, 'x', 0"})
    void matchesQemusTreeForTheDevicesJvmmHas(int smp, String memory, int nics, String append, int wiredFrom)
            throws Exception {
        assumeTrue(tools(), "qemu-system-aarch64 and dtc are needed");
        Map<String, Map<String, String>> jvmm = resolvePhandles(decompile(jvmmTree(config(smp, memory, nics,
                append, wiredFrom))));
        Map<String, Map<String, String>> qemu = resolvePhandles(decompile(qemuTree(smp, memory, nics, append, null)));
        for (String path : qemu.keySet()) {
            if (!jvmm.containsKey(path)) {
                assertThat(path).as("QEMU's node %s is missing on jvmm and not one it leaves out", path)
                        .matches(LEFT_OUT);
            }
        }
        for (Map.Entry<String, Map<String, String>> n : jvmm.entrySet()) {
            String path = n.getKey();
            assertThat(qemu).as("jvmm's node %s exists on QEMU", path).containsKey(path);
            Map<String, String> mine = new LinkedHashMap<>(n.getValue());
            Map<String, String> theirs = qemu.get(path);
            if (path.startsWith("/virtio_mmio@") && mine.containsKey("msi-parent")) {
                // A NIC in MSI mode raises MSIs through the ITS: the one property QEMU's (wired-only) transport
                // lacks. Slot 31 - i holds NIC i, and only those before wiredFrom are in MSI mode.
                int nic = 31 - Integer.parseInt(path.substring(path.indexOf('@') + 1), 16) % 0x1_0000 / 0x200;
                assertThat(nic).as("%s is in MSI mode", path).isLessThan(wiredFrom);
                assertThat(mine.remove("msi-parent")).as("%s names its ITS and DeviceID", path)
                        .isEqualTo("/intc@8000000/its@8080000 0x" + Integer.toHexString(31 - nic));
            } else if (path.startsWith("/virtio_mmio@")) {
                int nic = 31 - Integer.parseInt(path.substring(path.indexOf('@') + 1), 16) % 0x1_0000 / 0x200;
                assertThat(nic).as("%s is wired: exactly QEMU's node", path).isGreaterThanOrEqualTo(wiredFrom);
            }
            assertThat(mine.keySet()).as("properties of %s", path).containsExactlyInAnyOrderElementsOf(theirs.keySet());
            for (Map.Entry<String, String> p : mine.entrySet()) {
                if (!RANDOM.contains(path + ":" + p.getKey())) {
                    assertThat(p.getValue()).as("%s: %s", path, p.getKey()).isEqualTo(theirs.get(p.getKey()));
                }
            }
        }
    }

    /**
     * A user's {@code -dtb} as QEMU's arm_load_dtb edits it: its memory nodes replaced by one for the RAM, bootargs
     * set from {@code -append}; everything else kept.
     */
    @Test
    void aUsersTreeIsEditedAsQemuEditsIt() throws Exception {
        assumeTrue(tools(), "qemu-system-aarch64 and dtc are needed");
        Fdt user = new Fdt(1);
        user.root().strings("compatible", "example,board").cells("#address-cells", 2).cells("#size-cells", 2);
        user.root().add("memory@80000000").strings("device_type", "memory").reg64(0x8000_0000L, 0x1000_0000L);
        user.root().add("memory@90000000").strings("device_type", "memory").reg64(0x9000_0000L, 0x1000_0000L);
        user.root().add("chosen").strings("bootargs", "old");
        user.root().add("soc").strings("compatible", "simple-bus").empty("ranges");
        Path f = Files.createTempFile("user", ".dtb");
        try {
            Files.write(f, user.toBlob(0, 0));
            VmConfig c = VmConfig.builder().vcpus(1).memorySize(256L << 20).with(KernelConfig.SECTION,
                    KernelConfig.of(GuestCase.GUESTS.resolve("boot-info/boot-info.elf")).withAppend("new args")
                            .withDtb(f.toString())).build();
            byte[] mine = jvmmTree(c);
            byte[] theirs = qemuTree(1, "256M", 0, "new args", f);
            assertThat(decompile(mine)).isEqualTo(decompile(theirs));
            assertThat(ByteBuffer.wrap(mine).getInt(4)).as("totalsize: (file + 10000) * 2, as load_device_tree")
                    .isEqualTo(ByteBuffer.wrap(theirs).getInt(4));
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /**
     * An initrd beside an arm64 Image: /chosen's linux,initrd-start and linux,initrd-end as QEMU's dumpdtb has them
     * (one cell each), and the tree where QEMU's boot stub passes it (boot-info prints x0 at entry on QEMU).
     */
    @ParameterizedTest(name = "-m {0}, a {1}-byte initrd")
    @CsvSource({"128M, 5288", "512M, 3000001", "64M, 2097152"})
    void anInitrdIsPlacedAndDescribedAsQemuDoes(String memory, int initrdSize) throws Exception {
        assumeTrue(tools(), "qemu-system-aarch64 and dtc are needed");
        Path initrd = Files.createTempFile("initrd", ".bin");
        Path dump = Files.createTempFile("qemu-virt", ".dtb");
        try {
            byte[] bytes = new byte[initrdSize];
            new java.util.Random(initrdSize).nextBytes(bytes);
            Files.write(initrd, bytes);
            Path img = GuestCase.GUESTS.resolve("boot-info/boot-info.img");
            VmConfig c = VmConfig.builder().vcpus(1).memorySize(ConfigValues.sizeBytes(memory))
                    .with(KernelConfig.SECTION, KernelConfig.of(img).withInitrd(initrd.toString())).build();
            Map<String, String> mine;
            String summary;
            try (VirtMachine vm = VirtMachine.builder(c).console(SerialConsole.none()).build()) {
                mine = decompile(vm.deviceTree()).get("/chosen");
                summary = vm.bootSummary();
            }
            List<String> qemu = List.of("qemu-system-aarch64", "-M", "virt,gic-version=3", "-cpu", "cortex-a57",
                    "-m", memory, "-nographic", "-kernel", img.toString(), "-initrd", initrd.toString());
            List<String> dumpCmd = new ArrayList<>(qemu);
            dumpCmd.set(2, "virt,gic-version=3,dumpdtb=" + dump);
            assertThat(run(dumpCmd)).as("QEMU dumps its tree").isNotNull();
            Map<String, String> theirs = decompile(Files.readAllBytes(dump)).get("/chosen");
            for (String p : List.of("linux,initrd-start", "linux,initrd-end")) {
                assertThat(mine.get(p)).as("/chosen: %s", p).isNotNull().isEqualTo(theirs.get(p));
            }
            assertThat(mine.keySet()).containsExactlyInAnyOrderElementsOf(theirs.keySet());
            String console = run(qemu);
            assertThat(console).as("boot-info runs on QEMU").isNotNull();
            Matcher x0 = Pattern.compile("entry: x0 0x([0-9a-f]+) ").matcher(console);
            assertThat(x0.find()).as("boot-info prints x0: %s", console).isTrue();
            assertThat(summary).as("the tree where QEMU's stub passes it").endsWith("device tree at 0x" + x0.group(1))
                    .contains("initrd at " + theirs.get("linux,initrd-start").replaceAll("[<>]", "") + " ("
                            + initrdSize + " bytes)");
        } finally {
            Files.deleteIfExists(initrd);
            Files.deleteIfExists(dump);
        }
    }

    /** The writer's blob reads back as the same tree, and the header says version 17 and QEMU's 1 MiB. */
    @Test
    void blobsRoundTripThroughTheReader() throws Exception {
        byte[] blob = jvmmTree(config(2, "128M", 1, "a=1 b", 1));
        ByteBuffer b = ByteBuffer.wrap(blob);
        assertThat(b.getInt(0)).isEqualTo(Fdt.MAGIC);
        assertThat(b.getInt(4)).as("totalsize").isEqualTo(VirtBoard.FDT_SIZE).isEqualTo(blob.length);
        assertThat(b.getInt(20)).as("version").isEqualTo(17);
        assertThat(b.getInt(24)).as("last_comp_version").isEqualTo(16);
        Fdt back = Fdt.parse(blob);
        assertThat(back.toBlob(VirtBoard.FDT_SIZE, 0)).isEqualTo(blob);
        assertThat(new String(back.node("/chosen").get("bootargs"), StandardCharsets.UTF_8)).isEqualTo("a=1 b\0");
        assertThat(back.node("/virtio_mmio@a003e00")).isNotNull();
    }
}
