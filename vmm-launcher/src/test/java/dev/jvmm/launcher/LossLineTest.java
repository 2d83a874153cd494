package dev.jvmm.launcher;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The summary's one line on where received datagrams were lost, and the setting that would have kept them. */
class LossLineTest {
    private static final long RMEM_MAX = 4L << 20;

    private static LossLine.Nic nic(long sent, long read, long kernel, int granted, long asked) {
        return new LossLine.Nic("net0", true, sent, read, kernel, 0, 0, 0, 0, granted, asked);
    }

    @Test
    void nothingLostSaysSo() {
        assertThat(LossLine.of(List.of(nic(781_254, 781_254, 0, 8 << 20, 4L << 20)), RMEM_MAX, -1))
                .isEqualTo("loss: kernel 0, device 0, guest 0: none");
    }

    /** The first run of issue 13: the shipped toy config kept the kernel's default buffer. */
    @Test
    void kernelDropsWithTheKernelsDefaultBufferNameTheSettingThatGivesMoreRoom() {
        assertThat(LossLine.of(List.of(nic(781_254, 710_840, 70_414, 212_992, 0)), RMEM_MAX, -1))
                .isEqualTo("loss: kernel 70414, device 0, guest 0: net0's socket dropped 70414 with its 208K receive "
                        + "buffer full; set net.socket-receive-buffer: 4M, or leave the receiving threads more CPU");
    }

    @Test
    void withTheBuiltInSenderAtFullPriorityItsNiceValueIsNamedToo() {
        assertThat(LossLine.of(List.of(nic(781_254, 770_000, 11_254, 8 << 20, 4L << 20)), 16L << 20, 0))
                .isEqualTo("loss: kernel 11254, device 0, guest 0: net0's socket dropped 11254 with its receive "
                        + "buffer full (4M asked, which Linux reports as 8M with its bookkeeping); set "
                        + "net.socket-receive-buffer: 8M, or leave the receiving threads more CPU "
                        + "(--sender-nice 19 puts the built-in sender behind them)");
    }

    @Test
    void aBufferThatRmemMaxCutNamesTheSysctl() {
        assertThat(LossLine.of(List.of(nic(-1, 1000, 12, 425_984, 4L << 20)), 212_992, -1))
                .isEqualTo("loss: kernel 12, device 0, guest 0: net0's socket dropped 12 with its 416K receive buffer "
                        + "full; the kernel cut the 4M asked at net.core.rmem_max: raise it "
                        + "(sysctl -w net.core.rmem_max=4194304)");
    }

    @Test
    void aFullBufferThatWasGrantedAsksForMoreAndForRmemMaxWhenItIsTooSmall() {
        assertThat(LossLine.of(List.of(nic(-1, 1000, 5, 8 << 20, 4L << 20)), RMEM_MAX, -1))
                .isEqualTo("loss: kernel 5, device 0, guest 0: net0's socket dropped 5 with its receive buffer "
                        + "full (4M asked, which Linux reports as 8M with its bookkeeping); set net.socket-receive-buffer: 8M and sysctl -w net.core.rmem_max=8388608 (now "
                        + "4194304), or leave the receiving threads more CPU");
    }

    @Test
    void everyPlaceIsNamedWithItsOwnCountAndNothingTwice() {
        LossLine.Nic a = new LossLine.Nic("net0", false, 1000, 990, 0, 2, 3, 1, 0, 8 << 20, 4L << 20);
        LossLine.Nic b = new LossLine.Nic("net1", true, 500, 480, 20, 0, 0, 0, 7, 8 << 20, 4L << 20);
        assertThat(LossLine.of(List.of(a, b), 16L << 20, -1))
                .isEqualTo("loss: before the socket 10, kernel 20, device 6, guest 7: "
                        + "10 sent to net0 never reached its socket (the kernel's input backlog, "
                        + "net.core.netdev_max_backlog, or the sender's own socket); "
                        + "net0's device dropped 3 too big for the guest's receive buffers; set nics[].mrg-rxbuf: true; "
                        + "net0's device dropped 2 that waited for a receive buffer while the guest reset the NIC or the "
                        + "machine stopped; "
                        + "net0's device dropped 1 from IPv6 senders, which the udp backend does not forward; send over "
                        + "IPv4; "
                        + "net1's socket dropped 20 with its receive buffer full (4M asked, which Linux reports as 8M "
                        + "with its bookkeeping); set net.socket-receive-buffer: 8M, "
                        + "or leave the receiving threads more CPU; "
                        + "net1's guest threw away 7 received frames when it reset the NIC (guest.options.reset-after)");
    }

    @Test
    void offLinuxTheKernelsShareIsUnknownAndSaid() {
        assertThat(LossLine.of(List.of(nic(-1, 10, -1, 0, 4L << 20)), -1, -1))
                .isEqualTo("loss: kernel ?, device 0, guest 0: none the device or the guest saw (the kernel's drops "
                        + "are unknown here: not Linux)");
    }

    @Test
    void sizesAreSpelledAsTheConfigurationSpellsThem() {
        assertThat(LossLine.size(212_992)).isEqualTo("208K");
        assertThat(LossLine.size(4L << 20)).isEqualTo("4M");
        assertThat(LossLine.size(1000)).isEqualTo("1000");
    }
}
