package dev.jvmm.gic;

import dev.jvmm.core.concurrent.VarHandles;
import dev.jvmm.gic.internal.Spin;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One LPI of the machine: the interrupt object that interrupt translation entries point to (KVM's
 * {@code struct vgic_irq} for an LPI). There is one per mapped INTID, shared by every entry that maps that INTID,
 * and it lives in the {@link LpiRegistry} while at least one entry references it.
 *
 * <h2>State</h2>
 * <ul>
 *   <li>{@link #target}: the processor number whose redistributor the LPI is delivered to, or {@link #NO_TARGET}.
 *       Set from the collection by MAPTI and MAPC, changed by MOVI and MOVALL.</li>
 *   <li>{@link #config}: the configuration byte as last read from the guest's table (MAPTI, INV, INVALL): the
 *       redistributor's cached copy, as the architecture allows.</li>
 *   <li>Pending state: while enabled, the LPI is pending exactly when its bit is set in its target's
 *       {@link PendingLpiSet}; while disabled, {@link #latched} holds it, to be delivered once the LPI is enabled.</li>
 * </ul>
 *
 * <h2>The delivery guard: how commands stay coherent with lock-free injection</h2>
 * Every delivery (cached path, slow path, INT) runs inside {@link #tryEnter()}/{@link #exit()}: a count of
 * deliveries in flight, in one int with a BUSY bit. A command (or any event) that changes what delivering this LPI
 * means (removing the entry that maps it, moving it, disabling its redistributor, changing its configuration)
 * first calls {@link #quiesce()}: it sets BUSY, so that no new delivery may enter, and waits until those in flight
 * have left; it then changes the state and calls {@link #resume()}. Hence, once the command has completed:
 * <ul>
 *   <li>a delivery that entered before the command has finished (the command waited for it), and its effect is
 *       visible to the command, which moves or clears it;</li>
 *   <li>a delivery that enters after the command sees every change the command made (the guard word's atomic
 *       updates order them), so it re-validates against the new state: a removed entry reads
 *       {@code live == false}, a moved LPI reads its new target;</li>
 *   <li>a delivery that tries while the command runs finds BUSY and reports a cache miss; the slow path then waits
 *       for the ITS lock, which the command holds (or, for a command of another ITS such as MOVALL, for the LPI
 *       itself).</li>
 * </ul>
 * That is why a translation cache lookup that read an entry just before a flush can never deliver through the
 * removed mapping after the command that removed it completed. An LPI whose last entry is removed is retired:
 * BUSY stays set forever, so a stale cached pointer to it can never deliver again.
 *
 * <p>The guard never blocks the injecting side (a failed {@link #tryEnter()} returns at once), and a command waits
 * only for deliveries in flight, which hold no lock and never wait: no deadlock is possible.
 */
final class Lpi {
    static final int NO_TARGET = -1;

    private static final int BUSY = Integer.MIN_VALUE;
    private static final VarHandle GUARD = VarHandles.field(MethodHandles.lookup(), "guard", int.class);

    final int intid;
    /** Bit 31: BUSY (a command holds the LPI); bits 30..0: deliveries in flight. */
    private volatile int guard;
    /** The target processor; changed only while quiesced. */
    volatile int target;
    /** The configuration byte; changed only while quiesced. */
    volatile int config;
    /** Pending while disabled; set by deliveries (idempotently), cleared only while quiesced. */
    volatile boolean latched;
    /**
     * When the pending MSI was signalled and made pending ({@link System#nanoTime()}, 0 when not raised by an MSI),
     * for {@link dev.jvmm.core.irq.IrqObserver#acknowledged}. Written by the delivery that made the LPI pending,
     * read at the acknowledge; a racing re-delivery may overwrite them with its own: tracing data, not state.
     */
    long signalNanos;
    long pendingNanos;
    /** Interrupt translation entries that map this INTID; guarded by the registry's monitor. */
    int references;
    /** Removed from the registry; BUSY forever. */
    volatile boolean retired;

    Lpi(int intid, int target, int config) {
        this.intid = intid;
        this.target = target;
        this.config = config;
    }

    /** Enters the delivery guard unless a command holds the LPI. Never blocks. */
    boolean tryEnter() {
        int s = (int) GUARD.getAndAdd(this, 1);
        if (s < 0) {
            GUARD.getAndAdd(this, -1);
            return false;
        }
        return true;
    }

    /** Enters the guard, waiting out a command on another ITS; false when the LPI is retired. Slow path only. */
    boolean enter() {
        for (int round = 0; !tryEnter(); round++) {
            if (retired) {
                return false;
            }
            Spin.pause(round);
        }
        return true;
    }

    void exit() {
        GUARD.getAndAdd(this, -1);
    }

    /**
     * Takes the LPI for a command: no new delivery may enter, and every delivery in flight has left. Returns false,
     * without taking it, when the LPI is retired (its last entry went away meanwhile): there is nothing to change.
     */
    boolean quiesce() {
        for (int round = 0; (int) GUARD.getAndBitwiseOr(this, BUSY) < 0; round++) {
            // Another command holds it (possibly on another ITS) for a short while, or it is retired for good.
            if (retired) {
                return false;
            }
            Spin.pause(round);
        }
        for (int round = 0; (guard & ~BUSY) != 0; round++) {
            Spin.pause(round);
        }
        return true;
    }

    /** Lets deliveries in again, after a {@link #quiesce()} that returned true. */
    void resume() {
        GUARD.getAndBitwiseAnd(this, ~BUSY);
    }

    /** Quiesces for good: the LPI left the registry. Returns false if it was retired already. */
    boolean retire() {
        if (!quiesce()) {
            return false;
        }
        retired = true;
        return true;
    }

    @Override
    public String toString() {
        return "LPI " + intid + " -> " + (target < 0 ? "none" : "PE " + target);
    }
}
