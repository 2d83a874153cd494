package dev.jvmm.net;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The NIC builder: every default written on a setter, none hidden in a factory. */
class NicConfigTest {

    @Test
    void theBuilderDerivesTheSlotsNamesAndSaysItsDefaults() {
        NicConfig n = NicConfig.builder(2).listen(new InetSocketAddress("127.0.0.1", 6000)).build();
        assertThat(n.id()).isEqualTo("net2");
        assertThat(n.slot()).isEqualTo(2);
        assertThat(n.deviceId()).as("DeviceID = slot").isEqualTo(2);
        assertThat(n.its()).isZero();
        assertThat(n.mac().toString()).isEqualTo("52:54:00:12:34:58");
        assertThat(n.guestPort()).as("the listen port").isEqualTo(6000);
        assertThat(n.mrgRxbuf()).as("QEMU's mrg_rxbuf=on").isTrue();
        assertThat(n.queueSize()).isEqualTo(256);
        assertThat(n.backend()).isEqualTo(NicConfig.NicBackend.UDP);
        NicConfig t = n.toBuilder().tunnel(new InetSocketAddress("127.0.0.1", 7000)).mrgRxbuf(false).build();
        assertThat(t.backend()).isEqualTo(NicConfig.NicBackend.UDP_TUNNEL);
        assertThat(t.remote().getPort()).isEqualTo(7000);
        assertThat(t.mrgRxbuf()).isFalse();
        assertThat(t.id()).isEqualTo("net2");
    }

    @Test
    void msiIsTheDefaultAndAWiredNicNamesItsSlotsSpi() {
        NicConfig n = NicConfig.builder(7).listen(6000).build();
        assertThat(n.interrupt()).as("existing configs keep their MSIs").isEqualTo(NicConfig.NicInterrupt.MSI);
        assertThat(n.wired()).isFalse();
        assertThat(n.wiredIntid()).as("the slot's SPI 16 + 7, for a device tree in either mode").isEqualTo(55);
        assertThat(n.toString()).contains("DeviceID 7 on ITS 0");
        NicConfig w = n.toBuilder().interrupt(NicConfig.NicInterrupt.WIRED).slot(31).build();
        assertThat(w.wired()).isTrue();
        assertThat(w.wiredIntid()).as("QEMU's last virtio-mmio slot: SPI 47").isEqualTo(32 + 47);
        assertThat(w.toString()).contains("wired INTID 79").doesNotContain("DeviceID");
        assertThat(w.toBuilder().build()).as("toBuilder keeps the mode").isEqualTo(w);
        assertThat(NicConfig.NicInterrupt.WIRED.configName()).isEqualTo("wired");
        assertThatThrownBy(() -> NicConfig.builder(0).listen(5001).interrupt(null).build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("interrupt");
    }

    @Test
    void nothingIsGuessedWhereNoDefaultIsSafe() {
        assertThatThrownBy(() -> NicConfig.builder(0).build()).hasMessageContaining("a listen address is required");
        assertThatThrownBy(() -> NicConfig.builder(0).listen(0).build())
                .hasMessageContaining("needs an explicit guest port");
        assertThat(NicConfig.builder(0).listen(0).guestPort(5001).build().guestPort()).isEqualTo(5001);
    }
}
