package dev.jvmm.virt;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.machine.FailureListener;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.VirtioNetDevices;
import io.netty.channel.EventLoopGroup;

/**
 * The embedder's choices for a machine with virtio-net NICs, besides its configuration, as a {@link MachineBuilder}
 * collects them: they go to core's {@link Machine.Builder} and to vmm-net's {@link VirtioNetDevices.Builder}.
 *
 * @param name            the machine's name, a prefix of its threads' names
 * @param observer        sees every MSI and acknowledge (a trace, a benchmark's probe)
 * @param backends        makes the NICs' backends; null for the built-in udp and udp-tunnel
 * @param eventLoopGroup  the NICs' event loop group, borrowed and never shut down; null for the machine's own
 * @param failureListener hears about internal errors (see {@link FailureListener})
 */
public record MachineWiring(String name, IrqObserver observer, NetBackend.Factory backends,
                            EventLoopGroup eventLoopGroup, FailureListener failureListener) {

    /** A machine builder for {@code config} with this name, observer and failure listener. */
    public Machine.Builder machine(VmConfig config) {
        return Machine.builder(config).name(name).observer(observer).failureListener(failureListener);
    }

    /** A factory of the configuration's NICs with these backends and this event loop group. */
    public VirtioNetDevices.Builder nics() {
        VirtioNetDevices.Builder b = VirtioNetDevices.builder();
        if (backends != null) {
            b.backends(backends);
        }
        if (eventLoopGroup != null) {
            b.eventLoopGroup(eventLoopGroup);
        }
        return b;
    }
}
