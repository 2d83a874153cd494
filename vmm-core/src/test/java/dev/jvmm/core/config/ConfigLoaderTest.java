package dev.jvmm.core.config;

import dev.jvmm.core.irq.InjectionMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    private static final String FULL = String.join("\n",
            "machine:",
            "  vcpus: 4",
            "  memory: 512M",
            "irq:",
            "  mode: worker",
            "  halt-poll: 50us",
            "  halt-poll-yield: false",
            "gic:",
            "  cache: sharded",
            "  cache-shards: 4",
            "net:",
            "  transport: nio",
            "  socket-receive-buffer: 4M",
            "nics:",
            "  - id: a",
            "    listen: 127.0.0.1:5001",
            "  - id: b",
            "    backend: udp-tunnel",
            "    listen: 127.0.0.1:5002",
            "    remote: 127.0.0.1:6002",
            "    mac: 52:54:00:aa:bb:cc",
            "    queue-size: 1024",
            "    mrg-rxbuf: false",
            "guest:",
            "  program: udp-sink",
            "  options:",
            "    report: 1s",
            "");

    @Test
    void aFullConfigIsReadIntoRecords() {
        VmConfig c = ConfigLoader.parse(FULL, "full.yaml");
        assertThat(c.machine().vcpus()).isEqualTo(4);
        assertThat(c.machine().memory().get(0).size()).isEqualTo(512L << 20);
        assertThat(c.machine().memory().get(0).base()).isEqualTo(0x4000_0000L);
        assertThat(c.irq().mode()).isEqualTo(InjectionMode.WORKER);
        assertThat(c.irq().haltPollNanos()).isEqualTo(50_000);
        assertThat(c.irq().haltPollYield()).isFalse();
        assertThat(c.net().socketReceiveBuffer()).isEqualTo(4L << 20);
        assertThat(c.gic().cache()).isEqualTo(CacheStrategy.SHARDED);
        assertThat(c.gic().cacheShards()).isEqualTo(4);
        assertThat(c.net().transport()).isEqualTo(NetConfig.Transport.NIO);
        assertThat(c.nics()).hasSize(2);
        NicConfig a = c.nics().get(0);
        assertThat(a.backend()).isEqualTo(NicConfig.NicBackend.UDP);
        assertThat(a.listen().getPort()).isEqualTo(5001);
        assertThat(a.guestPort()).isEqualTo(5001);
        assertThat(a.slot()).isZero();
        assertThat(a.deviceId()).isZero();
        assertThat(a.mac().toString()).isEqualTo("52:54:00:12:34:56");
        NicConfig b = c.nics().get(1);
        assertThat(b.backend()).isEqualTo(NicConfig.NicBackend.UDP_TUNNEL);
        assertThat(b.remote().getPort()).isEqualTo(6002);
        assertThat(b.mac().toString()).isEqualTo("52:54:00:aa:bb:cc");
        assertThat(b.queueSize()).isEqualTo(1024);
        assertThat(b.mrgRxbuf()).isFalse();
        assertThat(b.slot()).isEqualTo(1);
        assertThat(c.guest().program()).isEqualTo("udp-sink");
        assertThat(c.guest().option("report", "")).isEqualTo("1s");
        assertThat(c.source().locate("nics[1].remote").line()).isEqualTo(20);
    }

    @Test
    void defaultsApplyToAnAlmostEmptyFile() {
        VmConfig c = ConfigLoader.parse("guest:\n  program: idle\n", "min.yaml");
        assertThat(c.machine().vcpus()).isEqualTo(1);
        assertThat(c.irq().mode()).isEqualTo(InjectionMode.INLINE);
        assertThat(c.irq().haltPollYield()).isTrue();
        assertThat(c.net().socketReceiveBuffer()).as("the kernel's default").isZero();
        assertThat(c.gic().cache()).isEqualTo(CacheStrategy.PER_ITS);
        assertThat(c.nics()).isEmpty();
    }

    @Test
    void memoryMayBeAListOfRegions() {
        VmConfig c = ConfigLoader.parse("machine:\n  memory:\n    - size: 1G\n    - base: 0x100000000\n      size: 2G\n", "m.yaml");
        assertThat(c.machine().memory()).hasSize(2);
        assertThat(c.machine().memory().get(1).base()).isEqualTo(0x1_0000_0000L);
    }

    private static void assertError(String yaml, String expected) {
        assertThatThrownBy(() -> ConfigLoader.parse(yaml, "bad.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessage(expected);
    }

    @Test
    void everyProblemNamesTheFileTheLineAndTheKey() {
        assertError("machine:\n  vcpus: 0\n", "bad.yaml:2: machine.vcpus: must be between 1 and 123 (the redistributors"
                + " of QEMU's virt memory map), got 0");
        assertError("machine:\n  vcpu: 2\n", "bad.yaml:2: machine.vcpu: unknown key in 'machine'; known keys are vcpus,"
                + " memory, strict-mmio");
        assertError("machine:\n  memory: 12Q\n", "bad.yaml:2: machine.memory: must be a size such as 256M, 1G, 4096 or"
                + " 0x1000, got '12Q'");
        assertError("machine:\n  memory: 1000\n", "bad.yaml:2: machine.memory: RAM region size must be a non-zero"
                + " multiple of 4 KiB below 2^63, got 1000");
        assertError("irq:\n  mode: fast\n", "bad.yaml:2: irq.mode: must be one of inline, worker, got 'fast'");
        assertError("net:\n  socket-receive-buffer: 3G\n",
                "bad.yaml:2: net.socket-receive-buffer: must be at most 2G - 1 bytes, got 3221225472");
        assertError("irq:\n  halt-poll-yield: maybe\n",
                "bad.yaml:2: irq.halt-poll-yield: must be true or false, got 'maybe'");
        assertError("irq:\n  halt-poll: 200\n", "bad.yaml:2: irq.halt-poll: a duration needs a unit (ns, us, ms or s),"
                + " got '200'");
        assertError("gic:\n  cache: lru\n", "bad.yaml:2: gic.cache: must be one of none, global-lru, sharded, per-its,"
                + " got 'lru'");
        assertError("nics:\n  - listen: 127.0.0.1:5001\n  - listen: 127.0.0.1:5001\n",
                "bad.yaml:3: nics[1].listen: address 127.0.0.1:5001 is already used by nics[0]");
        assertError("nics:\n  - listen: 127.0.0.1:99999\n", "bad.yaml:2: nics[0].listen: port 99999 is outside 0..65535");
        assertError("nics:\n  - id: x\n", "bad.yaml:2: nics[0]: a NIC needs 'listen: host:port' (the host UDP socket it reads)");
        assertError("nics:\n  - listen: 5001\n    backend: udp-tunnel\n",
                "bad.yaml:2: nics[0].remote: a udp-tunnel NIC needs a remote address (host:port)");
        assertError("nics:\n  - listen: 5001\n    queue-size: 100\n",
                "bad.yaml:3: nics[0].queue-size: must be a power of two between 2 and 32768, got 100");
        assertError("nics:\n  - listen: 5001\n    mac: 01:00:5e:00:00:01\n",
                "bad.yaml:3: nics[0].mac: must be a unicast MAC address such as 52:54:00:12:34:56");
        assertError("machine:\n  memory:\n    - size: 1G\n    - base: 0x60000000\n      size: 1G\n",
                "bad.yaml:4: machine.memory[1]: RAM region [0x60000000, 0xa0000000) overlaps region [0x40000000, 0x80000000)");
        assertError("machine:\n  memory:\n    - base: 0x1000\n      size: 1G\n",
                "bad.yaml:3: machine.memory[0]: RAM region [0x1000, 0x40001000) overlaps the device area below 0x40000000");
        assertError("machine: [1, 2]\n", "bad.yaml:1: machine: must be a mapping of 'key: value' lines");
        assertError("machine:\n  vcpus: 1\n  vcpus: 2\n", "bad.yaml:3: machine.vcpus: the key appears twice");
        assertError("machine:\n  vcpus: [1\n", "bad.yaml:3: not valid YAML: expected ',' or ']', but got <stream end>");
        assertError("", "bad.yaml: the file is empty");
        assertError("bogus: 1\n", "bad.yaml:1: bogus: unknown key in top level; known keys are machine, irq, gic, net,"
                + " nics, guest, trace");
    }

    @Test
    void missingAndUnreadableFilesAreConfigErrors(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yaml")))
                .isInstanceOf(ConfigException.class).hasMessageEndingWith("nope.yaml: no such file");
        Path binary = dir.resolve("bin.yaml");
        Files.write(binary, new byte[]{(byte) 0xC3, (byte) 0x28, 10});
        assertThatThrownBy(() -> ConfigLoader.load(binary))
                .isInstanceOf(ConfigException.class).hasMessageEndingWith("bin.yaml: the file is not UTF-8 text");
        assertThatThrownBy(() -> ConfigLoader.load(dir)).isInstanceOf(ConfigException.class);
    }

    @Test
    void codeBuiltConfigsAreValidatedToo() {
        assertThatThrownBy(() -> VmConfig.builder().vcpus(0).build())
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("<config>: machine.vcpus:");
        assertThatThrownBy(() -> VmConfig.builder().nic(NicConfig.udp(0, 5001)).nic(NicConfig.udp(0, 5002)).build())
                .hasMessageContaining("nics[1].id");
    }
}
