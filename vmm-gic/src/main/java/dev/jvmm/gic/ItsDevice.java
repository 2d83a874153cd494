package dev.jvmm.gic;

import dev.jvmm.gic.internal.LongObjectMap;

/**
 * A device mapped by MAPD: its EventID width, the ITT address the guest gave (kept for introspection; the ITT
 * itself is never read, translation state lives here) and its interrupt translation entries by EventID. Mutated
 * under the ITS lock; the map allows lock-free reads.
 */
final class ItsDevice {
    final int deviceId;
    final int eventIdBits;
    final long ittAddress;
    final LongObjectMap<Ite> events = new LongObjectMap<>(8);

    ItsDevice(int deviceId, int eventIdBits, long ittAddress) {
        this.deviceId = deviceId;
        this.eventIdBits = eventIdBits;
        this.ittAddress = ittAddress;
    }

    /** Whether {@code eventId} fits the device's EventID bits. */
    boolean eventInRange(long eventId) {
        return eventId >= 0 && eventId < (1L << eventIdBits);
    }
}
