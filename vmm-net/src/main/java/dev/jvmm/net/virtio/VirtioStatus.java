package dev.jvmm.net.virtio;

/**
 * The bits of the device Status register (virtio 1.x, section 2.1 "Device Status Field").
 *
 * <pre>
 *   7        6                  5  4  3            2           1        0
 * ┌────────┬──────────────────┬─────┬────────────┬───────────┬────────┬─────────────┐
 * │ FAILED │ DEVICE_NEEDS_RESET│  -  │ FEATURES_OK│ DRIVER_OK │ DRIVER │ ACKNOWLEDGE │
 * └────────┴──────────────────┴─────┴────────────┴───────────┴────────┴─────────────┘
 * </pre>
 *
 * The driver sets ACKNOWLEDGE, DRIVER, FEATURES_OK and DRIVER_OK in that order, one step at a time (section 3.1.1);
 * FAILED at any time; only the device sets DEVICE_NEEDS_RESET. Writing 0 resets the device.
 */
public final class VirtioStatus {
    public static final int ACKNOWLEDGE = 1;
    public static final int DRIVER = 2;
    public static final int DRIVER_OK = 4;
    public static final int FEATURES_OK = 8;
    public static final int DEVICE_NEEDS_RESET = 64;
    public static final int FAILED = 128;

    private VirtioStatus() {
    }
}
