package dev.jvmm.core.irq;

/**
 * The outcome of an injection, packed into one {@code long} so that the hot path allocates nothing.
 *
 * <pre>
 *  63            32 31          16 15      8 7       0
 * ┌────────────────┬──────────────┬─────────┬─────────┐
 * │     INTID      │    vCPU      │ reason  │ status  │
 * └────────────────┴──────────────┴─────────┴─────────┘
 *   status: DELIVERED (INTID pending at vCPU), MISS (cached path only: take the slow path), DROPPED (reason set)
 * </pre>
 */
public final class InjectResult {
    public static final int DELIVERED = 1;
    public static final int MISS = 2;
    public static final int DROPPED = 3;

    /** The vCPU field of a result whose target the injector does not know (an SPI raised by an irqchip route). */
    public static final int NO_VCPU = 0xFFFF;

    /** The cached path could not decide; the caller must take the slow path. */
    public static final long MISS_RESULT = MISS;

    private InjectResult() {
    }

    /** The interrupt {@code intid} is now pending (or was already) at {@code vcpu}. */
    public static long delivered(int intid, int vcpu) {
        return ((long) intid << 32) | ((long) (vcpu & 0xFFFF) << 16) | DELIVERED;
    }

    /** SPI {@code intid} was raised on its line; the distributor routes it ({@link #vcpu} is {@link #NO_VCPU}). */
    public static long raised(int intid) {
        return delivered(intid, NO_VCPU);
    }

    public static long dropped(DropReason reason) {
        return ((long) reason.ordinal() << 8) | DROPPED;
    }

    public static int status(long result) {
        return (int) (result & 0xFF);
    }

    public static boolean isDelivered(long result) {
        return status(result) == DELIVERED;
    }

    public static boolean isMiss(long result) {
        return status(result) == MISS;
    }

    public static boolean isDropped(long result) {
        return status(result) == DROPPED;
    }

    /** The reason of a DROPPED result. */
    public static DropReason reason(long result) {
        if (!isDropped(result)) {
            throw new IllegalArgumentException("not a dropped result: " + describe(result));
        }
        return DropReason.of((int) ((result >>> 8) & 0xFF));
    }

    /** The INTID of a DELIVERED result. */
    public static int intid(long result) {
        return (int) (result >>> 32);
    }

    /** The target vCPU of a DELIVERED result. */
    public static int vcpu(long result) {
        return (int) ((result >>> 16) & 0xFFFF);
    }

    public static String describe(long result) {
        switch (status(result)) {
            case DELIVERED: return vcpu(result) == NO_VCPU ? "raised INTID " + intid(result)
                    : "delivered INTID " + intid(result) + " to vCPU " + vcpu(result);
            case MISS: return "cache miss";
            case DROPPED: return "dropped: " + reason(result);
            default: return "invalid result 0x" + Long.toHexString(result);
        }
    }
}
