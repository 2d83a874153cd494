package dev.jvmm.guest;

import dev.jvmm.core.machine.MemoryMap;

/**
 * The layout of the toy guest's report page: counters the guest keeps in its own RAM, at a fixed guest physical address, where
 * the host reads them (the way a host reads a guest's shared statistics page; the guest is never asked through a
 * Java reference). The guest updates each counter with a release store; the host reads with acquire loads.
 *
 * <pre>
 *  RAM_BASE + 0x0000  u32 magic 'JVTG'   u32 version   u32 state (0 booting, 1 running, 2 panicked)
 *             0x000C  u32 NIC count      u32 vCPUs online
 *             0x0040  NIC 0 block (0x80 bytes), NIC 1 block, ...   (up to 32 NICs)
 *             0x1040  vCPU interrupt counters, u64 each (up to 128 vCPUs)
 *             0x1440  u32 panic message length, then the message (UTF-8, up to 1 KiB)
 *
 *  NIC block: +0x00 frames   valid UDP datagrams the application received
 *             +0x08 bytes    their UDP payload bytes
 *             +0x10 lost     iperf sequence numbers skipped (net of late arrivals), iperf datagrams only
 *             +0x18 reorder  iperf datagrams that arrived after a later one
 *             +0x20 bad      frames that failed a header or checksum check
 *             +0x28 crcSum   sum of the CRC-32 of every payload (order-independent, for byte-exact tests)
 *             +0x30 echoed   datagrams sent back (udp-echo)
 *             +0x38 irqs     interrupts taken for this NIC
 *             +0x40 other    frames that are not IPv4/UDP to the guest (ARP replies included)
 *             +0x48 txDrops  datagrams the guest could not send (transmit ring full)
 *             +0x50 iperfFin iperf end-of-test datagrams seen
 *             +0x58 resets   times the guest reset the NIC (after DEVICE_NEEDS_RESET, or by option reset-after)
 *             +0x60 discard  received frames a reset threw away (completed by the device, not yet taken)
 *             +0x68 iperf    of the frames, those with a plausible iperf2 header (sequence: iperf), ends included
 *             +0x70 notIperf of the frames, those without one: not counted in lost or reorder (sequence: iperf)
 * </pre>
 */
final class GuestReportDescriptor {
    static final long BASE = MemoryMap.RAM_BASE;
    /** Bytes reserved for the report at the start of RAM; the allocator starts after them. */
    static final long SIZE = 0x2000;

    static final int MAGIC = 0x4754564A; // "JVTG" little-endian
    static final int VERSION = 2;

    static final long OFF_MAGIC = 0x0;
    static final long OFF_VERSION = 0x4;
    static final long OFF_STATE = 0x8;
    static final long OFF_NICS = 0xC;
    static final long OFF_ONLINE = 0x10;
    static final long OFF_NIC_BLOCKS = 0x40;
    static final long NIC_BLOCK = 0x80;
    static final int MAX_NICS = 32;
    static final long OFF_VCPU_IRQS = 0x1040;
    static final int MAX_VCPUS = 128;
    static final long OFF_PANIC_LEN = 0x1440;
    static final long OFF_PANIC_TEXT = 0x1444;
    static final int MAX_PANIC = 1024;

    private GuestReportDescriptor() {
    }
}
