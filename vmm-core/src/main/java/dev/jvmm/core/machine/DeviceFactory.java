package dev.jvmm.core.machine;

import java.util.List;

/** Builds devices for a machine (called once, while the machine is built). */
@FunctionalInterface
public interface DeviceFactory {
    List<? extends MachineDevice> create(MachineContext context);
}
