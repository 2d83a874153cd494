package dev.jvmm.core.testing;

/**
 * How many cases the hostile-input property tests run. The default keeps the test suite fast; a soak run multiplies
 * every count: {@code mvn test -Djvmm.hostile.scale=100 -Djunit.jupiter.execution.timeout.mode=disabled} (the long mode).
 */
public final class HostileCases {
    private HostileCases() {
    }

    /** {@code base} times the scale given by {@code -Djvmm.hostile.scale} (default 1). */
    public static int cases(int base) {
        int scale = Math.max(1, Integer.getInteger("jvmm.hostile.scale", 1));
        return (int) Math.min(Integer.MAX_VALUE, (long) base * scale);
    }
}
