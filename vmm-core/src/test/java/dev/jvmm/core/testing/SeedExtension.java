package dev.jvmm.core.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * Gives a test method a {@link SeededRandom} parameter and, when the test fails, puts the seed and the replay
 * command into the failure:
 *
 * <pre>{@code
 * @ExtendWith(SeedExtension.class)
 * class HostileRingTest {
 *     @Test void survives(SeededRandom random) { ... }
 * }
 * }</pre>
 *
 * The seed is {@code -Djvmm.seed} when set (to replay a failure), otherwise fresh for every run.
 */
public final class SeedExtension implements ParameterResolver, TestExecutionExceptionHandler {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SeedExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == SeededRandom.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        return e.getStore(NS).getOrComputeIfAbsent("random", k -> new SeededRandom(seed()), SeededRandom.class);
    }

    private static long seed() {
        String fixed = System.getProperty("jvmm.seed");
        if (fixed != null && !fixed.isBlank()) {
            return Long.parseLong(fixed.trim());
        }
        return System.nanoTime() ^ Thread.currentThread().getId() * 0x9E3779B97F4A7C15L;
    }

    @Override
    public void handleTestExecutionException(ExtensionContext e, Throwable t) throws Throwable {
        SeededRandom r = e.getStore(NS).get("random", SeededRandom.class);
        if (r != null) {
            String how = "seed " + r.seed() + " (replay: mvn test -Dtest=" + e.getRequiredTestClass().getSimpleName()
                    + "#" + e.getRequiredTestMethod().getName() + " -Djvmm.seed=" + r.seed() + ")";
            System.err.println("FAILED with " + how);
            AssertionError withSeed = new AssertionError("failed with " + how + ": " + t.getMessage(), t);
            throw withSeed;
        }
        throw t;
    }
}
