package dev.jvmm.core.testing;

import java.util.Random;

/**
 * A {@link Random} that remembers its seed, for property tests over hostile inputs. Obtain one as a test method
 * parameter under {@link SeedExtension}; a failing test reports the seed, and {@code -Djvmm.seed=N} replays it.
 */
public final class SeededRandom extends Random {
    private static final long serialVersionUID = 1L;

    private final long seed;

    public SeededRandom(long seed) {
        super(seed);
        this.seed = seed;
    }

    public long seed() {
        return seed;
    }

    /** A long drawn to hit edges often: 0, 1, powers of two and their neighbours, values near 2^64, or anything. */
    public long edgyLong() {
        switch (nextInt(8)) {
            case 0: return 0;
            case 1: return -1L - nextInt(4096);
            case 2: return 1L << nextInt(64);
            case 3: return (1L << nextInt(64)) - 1;
            case 4: return nextInt(65536);
            default: return nextLong();
        }
    }

    /** An int drawn to hit edges often. */
    public int edgyInt() {
        return (int) edgyLong();
    }

    @Override
    public String toString() {
        return "SeededRandom[seed=" + seed + "]";
    }
}
