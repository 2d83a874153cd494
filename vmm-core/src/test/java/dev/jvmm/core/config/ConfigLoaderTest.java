package dev.jvmm.core.config;

import dev.jvmm.core.irq.InjectionMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    /** A module's section as a module writes one: a record, its keys, its checks. */
    record Widget(int count, String mode) {
        static final ConfigSection<Widget> SECTION = ConfigSection.of("widget", () -> new Widget(1, "plain"),
                node -> new Widget(node.integer("count", 1), node.choice("mode", "plain", "plain", "fancy")),
                (w, config) -> {
                    if (w.count() > config.machine().vcpus()) {
                        throw config.source().error("widget.count", "must be at most machine.vcpus ("
                                + config.machine().vcpus() + "), got " + w.count());
                    }
                });
    }

    /** Two owners of one key, told apart by their selector keys (the guest's rule). */
    record ProgramGuest(String program) {
        static final ConfigSection<ProgramGuest> SECTION = ConfigSection.selectedBy("guest", "program",
                () -> new ProgramGuest("idle"), node -> new ProgramGuest(node.string("program", "idle")), (g, c) -> { });
    }

    record KernelGuest(String kernel, String append) {
        static final ConfigSection<KernelGuest> SECTION = ConfigSection.selectedBy("guest", "kernel",
                () -> new KernelGuest(null, ""),
                node -> new KernelGuest(node.string("kernel", null), node.string("append", "")), (g, c) -> { });
    }

    private static final ConfigLoader LOADER = ConfigLoader.of(Widget.SECTION, ProgramGuest.SECTION, KernelGuest.SECTION);

    private static final String FULL = String.join("\n",
            "irq:",
            "  halt-poll: 50us",
            "  halt-poll-yield: false",
            "  mode: worker",
            "machine:",
            "  memory: 512M",
            "  vcpus: 4",
            "widget:",
            "  count: 3",
            "  mode: fancy",
            "");

    @Test
    void coreSectionsAndModuleSectionsAreReadIntoRecords() {
        VmConfig c = LOADER.parse(FULL, "full.yaml");
        assertThat(c.machine().vcpus()).isEqualTo(4);
        assertThat(c.machine().memory().get(0).size()).isEqualTo(512L << 20);
        assertThat(c.machine().memory().get(0).base()).isEqualTo(0x4000_0000L);
        assertThat(c.irq().mode()).isEqualTo(InjectionMode.WORKER);
        assertThat(c.irq().haltPollNanos()).isEqualTo(50_000);
        assertThat(c.irq().haltPollYield()).isFalse();
        assertThat(c.get(Widget.SECTION)).isEqualTo(new Widget(3, "fancy"));
        assertThat(c.source().locate("widget.mode").line()).isEqualTo(10);
        assertThat(c.find(ProgramGuest.SECTION)).as("the default guest owns an absent guest section").isPresent();
        assertThat(c.find(KernelGuest.SECTION)).isEmpty();
    }

    @Test
    void defaultsApplyToAnAlmostEmptyFile() {
        VmConfig c = LOADER.parse("machine:\n  vcpus: 1\n", "min.yaml");
        assertThat(c.machine().vcpus()).isEqualTo(1);
        assertThat(c.irq().mode()).isEqualTo(InjectionMode.INLINE);
        assertThat(c.irq().haltPollYield()).isTrue();
        assertThat(c.get(Widget.SECTION)).isEqualTo(Widget.SECTION.defaults());
    }

    @Test
    void aMachineMayHaveNoVcpus() {
        assertThat(ConfigLoader.of().parse("machine:\n  vcpus: 0\n", "z.yaml").machine().vcpus()).isZero();
        assertThat(VmConfig.builder().vcpus(0).build().machine().vcpus()).isZero();
    }

    @Test
    void theSelectorKeyDecidesWhichModuleOwnsASharedSection() {
        VmConfig kernel = LOADER.parse("guest:\n  kernel: Image\n  append: console=ttyAMA0\n", "k.yaml");
        assertThat(kernel.find(KernelGuest.SECTION)).contains(new KernelGuest("Image", "console=ttyAMA0"));
        assertThat(kernel.find(ProgramGuest.SECTION)).isEmpty();
        VmConfig program = LOADER.parse("guest:\n  program: udp-sink\n", "p.yaml");
        assertThat(program.find(ProgramGuest.SECTION)).contains(new ProgramGuest("udp-sink"));
        assertThat(program.find(KernelGuest.SECTION)).isEmpty();
        assertError("guest:\n  program: udp-sink\n  kernel: Image\n",
                "bad.yaml:3: guest.kernel: 'guest' names either program or kernel, not both");
        assertError("guest:\n  program: udp-sink\n  append: x\n",
                "bad.yaml:3: guest.append: unknown key in 'guest'; known keys are program");
    }

    @Test
    void memoryMayBeAListOfRegions() {
        VmConfig c = LOADER.parse("machine:\n  memory:\n    - size: 1G\n    - base: 0x100000000\n      size: 2G\n", "m.yaml");
        assertThat(c.machine().memory()).hasSize(2);
        assertThat(c.machine().memory().get(1).base()).isEqualTo(0x1_0000_0000L);
    }

    private static void assertError(String yaml, String expected) {
        assertThatThrownBy(() -> LOADER.parse(yaml, "bad.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessage(expected);
    }

    @Test
    void everyProblemNamesTheFileTheLineAndTheKey() {
        assertError("machine:\n  vcpus: -1\n", "bad.yaml:2: machine.vcpus: must be between 0 and 512, got -1");
        assertError("machine:\n  vcpu: 2\n", "bad.yaml:2: machine.vcpu: unknown key in 'machine'; known keys are vcpus,"
                + " memory, strict-mmio");
        assertError("machine:\n  memory: 12Q\n", "bad.yaml:2: machine.memory: must be a size such as 256M, 1G, 4096 or"
                + " 0x1000, got '12Q'");
        assertError("machine:\n  memory: 1000\n", "bad.yaml:2: machine.memory: RAM region size must be a non-zero"
                + " multiple of 4 KiB below 2^63, got 1000");
        assertError("irq:\n  mode: fast\n", "bad.yaml:2: irq.mode: must be one of inline, worker, got 'fast'");
        assertError("irq:\n  halt-poll-yield: maybe\n",
                "bad.yaml:2: irq.halt-poll-yield: must be true or false, got 'maybe'");
        assertError("irq:\n  halt-poll: 200\n", "bad.yaml:2: irq.halt-poll: a duration needs a unit (ns, us, ms, s, m"
                + " or h), got '200'");
        assertError("widget:\n  count: 2\n", "bad.yaml:2: widget.count: must be at most machine.vcpus (1), got 2");
        assertError("widget:\n  mode: odd\n", "bad.yaml:2: widget.mode: must be one of plain, fancy, got 'odd'");
        assertError("machine:\n  memory:\n    - size: 1G\n    - base: 0x60000000\n      size: 1G\n",
                "bad.yaml:4: machine.memory[1]: RAM region [0x60000000, 0xa0000000) overlaps region [0x40000000, 0x80000000)");
        assertError("machine:\n  memory:\n    - base: 0x1000\n      size: 1G\n",
                "bad.yaml:3: machine.memory[0]: RAM region [0x1000, 0x40001000) overlaps the device area below 0x40000000");
        assertError("machine: [1, 2]\n", "bad.yaml:1: machine: must be a mapping of 'key: value' lines");
        assertError("machine:\n  vcpus: 1\n  vcpus: 2\n", "bad.yaml:3: machine.vcpus: the key appears twice");
        assertError("machine:\n  vcpus: [1\n", "bad.yaml:3: not valid YAML: expected ',' or ']', but got <stream end>");
        assertError("", "bad.yaml: the file is empty");
        assertError("bogus: 1\n", "bad.yaml:1: bogus: unknown key in top level; known keys are machine, irq, widget,"
                + " guest");
    }

    @Test
    void missingAndUnreadableFilesAreConfigErrors(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> LOADER.load(dir.resolve("nope.yaml")))
                .isInstanceOf(ConfigException.class).hasMessageEndingWith("nope.yaml: no such file");
        Path binary = dir.resolve("bin.yaml");
        Files.write(binary, new byte[]{(byte) 0xC3, (byte) 0x28, 10});
        assertThatThrownBy(() -> LOADER.load(binary))
                .isInstanceOf(ConfigException.class).hasMessageEndingWith("bin.yaml: the file is not UTF-8 text");
        assertThatThrownBy(() -> LOADER.load(dir)).isInstanceOf(ConfigException.class);
    }

    @Test
    void codeBuiltConfigsAreValidatedToo() {
        assertThatThrownBy(() -> VmConfig.builder().vcpus(-1).build())
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("<config>: machine.vcpus:");
        assertThatThrownBy(() -> VmConfig.builder().with(Widget.SECTION, new Widget(5, "plain")).build())
                .hasMessage("<config>: widget.count: must be at most machine.vcpus (1), got 5");
        VmConfig c = VmConfig.builder().vcpus(2).with(Widget.SECTION, new Widget(2, "fancy")).build();
        assertThat(c.get(Widget.SECTION).count()).isEqualTo(2);
        assertThat(c.with(KernelGuest.SECTION, new KernelGuest("Image", "")).find(KernelGuest.SECTION)).isPresent();
    }

    @Test
    void configAndCommandLineShareOneSpellingOfValues() {
        assertThat(ConfigValues.durationNanos("200us")).isEqualTo(200_000);
        assertThat(ConfigValues.durationNanos("1.5s")).isEqualTo(1_500_000_000L);
        assertThat(ConfigValues.durationNanos("2m")).isEqualTo(120_000_000_000L);
        assertThat(ConfigValues.durationNanos("0")).isZero();
        assertThat(ConfigValues.durationNanos("2.5", TimeUnit.SECONDS)).isEqualTo(2_500_000_000L);
        assertThatThrownBy(() -> ConfigValues.durationNanos("10")).hasMessageContaining("needs a unit");
        assertThatThrownBy(() -> ConfigValues.durationNanos("400d", TimeUnit.SECONDS)).hasMessageContaining("a duration");
        assertThat(ConfigValues.sizeBytes("4M")).isEqualTo(4L << 20);
        assertThat(ConfigValues.sizeBytes("0x1000")).isEqualTo(4096);
        assertThat(ConfigValues.socketAddress("5001").getPort()).isEqualTo(5001);
        assertThat(ConfigValues.hostPort(ConfigValues.socketAddress("127.0.0.1:9100"))).isEqualTo("127.0.0.1:9100");
        assertThatThrownBy(() -> ConfigValues.socketAddress("host:x")).hasMessageContaining("host:port");
        assertThat(List.of(ConfigValues.describeNanos(200_000), ConfigValues.describeNanos(3_000_000_000L)))
                .containsExactly("200us", "3s");
    }
}
