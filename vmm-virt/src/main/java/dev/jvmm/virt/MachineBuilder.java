package dev.jvmm.virt;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.machine.FailureListener;
import dev.jvmm.net.NetBackend;
import io.netty.channel.EventLoopGroup;

/**
 * What every builder of a whole machine with virtio-net NICs takes: its configuration, and the embedder's choices
 * ({@link MachineWiring}). {@link VirtMachine.Builder} builds the board, the launcher's builder the toy guest's
 * machine.
 *
 * @param <B> the builder itself, which every setter returns
 */
public abstract class MachineBuilder<B extends MachineBuilder<B>> {
    private final VmConfig config;
    private String name;
    private IrqObserver observer = IrqObserver.NONE;
    private NetBackend.Factory backends;
    private EventLoopGroup eventLoopGroup;
    private FailureListener failureListener = FailureListener.NONE;

    /**
     * @param config the machine's configuration
     * @param name   the machine's name unless {@link #name} says another
     */
    protected MachineBuilder(VmConfig config, String name) {
        this.config = config;
        this.name = name;
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** The machine's configuration. */
    public VmConfig config() {
        return config;
    }

    /** The machine's name, a prefix of its threads' names. */
    public B name(String n) {
        name = n;
        return self();
    }

    /** Sees every MSI and acknowledge (a trace, a benchmark's probe); null for none. */
    public B observer(IrqObserver o) {
        observer = o == null ? IrqObserver.NONE : o;
        return self();
    }

    /** The NICs' backends (default: the built-in udp and udp-tunnel). */
    public B backends(NetBackend.Factory f) {
        backends = f;
        return self();
    }

    /** The NICs run on this Netty event loop group, which the machine borrows and never shuts down. */
    public B eventLoopGroup(EventLoopGroup g) {
        eventLoopGroup = g;
        return self();
    }

    /** Who hears about internal errors (see {@link FailureListener}); null for nobody (they are only counted). */
    public B failureListener(FailureListener l) {
        failureListener = l == null ? FailureListener.NONE : l;
        return self();
    }

    /** The choices made so far. */
    public MachineWiring wiring() {
        return new MachineWiring(name, observer, backends, eventLoopGroup, failureListener);
    }
}
