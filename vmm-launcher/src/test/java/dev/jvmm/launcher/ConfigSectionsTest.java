package dev.jvmm.launcher;

import dev.jvmm.core.config.ConfigException;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.gic.GicConfig;
import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.launcher.trace.TraceConfig;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The configuration of a toy-guest machine as the launcher assembles it: core's sections and those that vmm-gic,
 * vmm-net, vmm-guest and the launcher own, each read by its module, every error naming the file, the line and the key.
 */
class ConfigSectionsTest {

    private static final String FULL = String.join("\n",
            "machine:",
            "  vcpus: 4",
            "  memory: 512M",
            "irq:",
            "  mode: worker",
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
            "    sequence: none",
            "    work-per-frame: 20us",
            "trace:",
            "  dir: /tmp/t",
            "");

    @Test
    void aFullConfigIsReadByTheModulesThatOwnEachSection() {
        VmConfig c = VirtualMachine.configLoader().parse(FULL, "full.yaml");
        assertThat(c.machine().vcpus()).isEqualTo(4);
        assertThat(c.irq().mode()).isEqualTo(InjectionMode.WORKER);
        GicConfig gic = c.get(GicConfig.SECTION);
        assertThat(gic.cache()).isEqualTo(CacheStrategy.SHARDED);
        assertThat(gic.cacheShards()).isEqualTo(4);
        NetConfig net = c.get(NetConfig.SECTION);
        assertThat(net.transport()).isEqualTo(NetConfig.Transport.NIO);
        assertThat(net.socketReceiveBuffer()).isEqualTo(4L << 20);
        assertThat(c.get(NicConfig.SECTION)).hasSize(2);
        NicConfig a = c.get(NicConfig.SECTION).get(0);
        assertThat(a.backend()).isEqualTo(NicConfig.NicBackend.UDP);
        assertThat(a.listen().getPort()).isEqualTo(5001);
        assertThat(a.guestPort()).isEqualTo(5001);
        assertThat(a.slot()).isZero();
        assertThat(a.deviceId()).isZero();
        assertThat(a.mac().toString()).isEqualTo("52:54:00:12:34:56");
        NicConfig b = c.get(NicConfig.SECTION).get(1);
        assertThat(b.backend()).isEqualTo(NicConfig.NicBackend.UDP_TUNNEL);
        assertThat(b.remote().getPort()).isEqualTo(6002);
        assertThat(b.mac().toString()).isEqualTo("52:54:00:aa:bb:cc");
        assertThat(b.queueSize()).isEqualTo(1024);
        assertThat(b.mrgRxbuf()).isFalse();
        assertThat(b.slot()).isEqualTo(1);
        ToyGuestConfig guest = c.get(ToyGuestConfig.SECTION);
        assertThat(guest.program()).isEqualTo("udp-sink");
        assertThat(guest.iperfSequence()).isFalse();
        assertThat(guest.workPerFrameNanos()).isEqualTo(20_000);
        assertThat(c.get(TraceConfig.SECTION).dir()).isEqualTo(Path.of("/tmp/t"));
        assertThat(c.source().locate("nics[1].remote").line()).isEqualTo(18);
    }

    @Test
    void everySectionIsOptional() {
        VmConfig c = VirtualMachine.configLoader().parse("guest:\n  program: idle\n", "min.yaml");
        assertThat(c.get(GicConfig.SECTION)).isEqualTo(GicConfig.defaults());
        assertThat(c.get(NetConfig.SECTION).socketReceiveBuffer()).as("4M unless told").isEqualTo(4L << 20);
        assertThat(c.get(NicConfig.SECTION)).isEmpty();
        assertThat(c.get(TraceConfig.SECTION).enabled()).isFalse();
    }

    private static void assertError(String yaml, String expected) {
        assertThatThrownBy(() -> VirtualMachine.configLoader().parse(yaml, "bad.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessage(expected);
    }

    @Test
    void everyProblemNamesTheFileTheLineAndTheKey() {
        assertError("machine:\n  vcpus: 200\n", "bad.yaml:2: machine.vcpus: must be between 0 and 123 (the"
                + " redistributors of QEMU's virt memory map), got 200");
        assertError("net:\n  socket-receive-buffer: 3G\n",
                "bad.yaml:2: net.socket-receive-buffer: must be at most 2G - 1 bytes, got 3221225472");
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
        assertError("nics:\n  - listen: 5001\n    its: 1\n",
                "bad.yaml:3: nics[0].its: must name one of the 1 ITS (0..0), got 1");
        assertError("nics:\n  - listen: 5001\n    interupt: msi\n",
                "bad.yaml:3: nics[0].interupt: unknown key in 'nics[0]'; known keys are id, backend, listen, remote,"
                        + " mac, guest-ip, gateway-ip, guest-port, queue-size, queue-pairs, mrg-rxbuf, slot, device-id, its,"
                        + " interrupt");
        assertError("guest:\n  program: udp-sink\n  options:\n    sequence: maybe\n",
                "bad.yaml:4: guest.options.sequence: must be one of iperf, none, got 'maybe'");
        assertError("guest:\n  program: udp-sink\n  options:\n    work-per-frame: 20\n",
                "bad.yaml:4: guest.options.work-per-frame: a duration needs a unit (ns, us, ms, s, m or h), got '20'");
        assertError("bogus: 1\n", "bad.yaml:1: bogus: unknown key in top level; known keys are machine, irq, gic, net,"
                + " nics, guest, trace");
    }

    @Test
    void aNicChoosesMsiOrItsSlotsWiredInterrupt() {
        VmConfig c = VirtualMachine.configLoader().parse(String.join("\n",
                "nics:",
                "  - listen: 127.0.0.1:5001",
                "  - listen: 127.0.0.1:5002",
                "    interrupt: wired",
                "  - listen: 127.0.0.1:5003",
                "    interrupt: msi",
                "    device-id: 1",
                ""), "modes.yaml");
        java.util.List<NicConfig> nics = c.get(NicConfig.SECTION);
        assertThat(nics.get(0).interrupt()).as("the default").isEqualTo(NicConfig.NicInterrupt.MSI);
        assertThat(nics.get(1).interrupt()).isEqualTo(NicConfig.NicInterrupt.WIRED);
        assertThat(nics.get(1).wiredIntid()).isEqualTo(49);
        assertThat(nics.get(2).deviceId()).as("a wired NIC's slot is no DeviceID an MSI NIC collides with")
                .isEqualTo(1);
        assertError("nics:\n  - listen: 5001\n    interrupt: level\n",
                "bad.yaml:3: nics[0].interrupt: must be one of msi, wired, got 'level'");
        assertError("nics:\n  - listen: 5001\n    interrupt: wired\n    device-id: 3\n",
                "bad.yaml:4: nics[0].device-id: only a NIC with 'interrupt: msi' has an MSI parent; a wired NIC raises"
                        + " its slot's SPI (INTID 48)");
        assertError("nics:\n  - listen: 5001\n    slot: 2\n    its: 0\n    interrupt: wired\n",
                "bad.yaml:4: nics[0].its: only a NIC with 'interrupt: msi' has an MSI parent; a wired NIC raises"
                        + " its slot's SPI (INTID 50)");
    }

    @Test
    void codeBuiltConfigsAreValidatedToo() {
        NicConfig n = NicConfig.builder(0).listen(5001).build();
        assertThatThrownBy(() -> VmConfig.builder().with(NicConfig.SECTION, java.util.List.of(n, n)).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("nics[1].id");
    }
}
