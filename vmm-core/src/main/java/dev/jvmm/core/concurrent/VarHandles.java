package dev.jvmm.core.concurrent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Looks up the {@link VarHandle} of a field for a class's static initializer, where a failed lookup is a
 * programming error (a renamed field) that must stop the class from loading.
 *
 * <pre>{@code
 * private static final VarHandle STATE = VarHandles.field(MethodHandles.lookup(), "state", int.class);
 * }</pre>
 */
public final class VarHandles {
    private VarHandles() {
    }

    /**
     * The handle of field {@code name} of type {@code type} declared by {@code lookup}'s class.
     *
     * @param lookup the caller's {@code MethodHandles.lookup()}, which grants access to its private fields
     * @throws ExceptionInInitializerError when the field does not exist or is not accessible
     */
    public static VarHandle field(MethodHandles.Lookup lookup, String name, Class<?> type) {
        try {
            return lookup.findVarHandle(lookup.lookupClass(), name, type);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
