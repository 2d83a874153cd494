/**
 * virtio-net NICs for jvmm: a virtio-mmio version 2 device per NIC, fed by real UDP traffic through Netty sockets,
 * raising MSIs through irqfds.
 *
 * <pre>
 *  guest driver (vCPU threads)            the NIC's Netty event loop                      host
 *  ───────────────────────────            ──────────────────────────                      ────
 *  MMIO registers ─▶ VirtioMmioTransport
 *  QueueNotify ───▶ ioeventfd ─(hand-off)─▶ TX: chain ─▶ frame ─▶ NetBackend.transmit ─▶ UDP socket
 *                                          RX: datagram ─▶ headers + payload copied once
 *  used ring ◀───────────────────────────── into guest buffers ◀─ NetBackend ◀────────── UDP socket
 *  interrupt ◀── ITS ◀── MSI ◀── irqfd ◀─── EventFd.signal() (EventID = queue index)
 * </pre>
 *
 * <h2>What a launcher uses</h2>
 * <ul>
 *   <li>{@link dev.jvmm.net.VirtioNetDevices#create} — the {@code DeviceFactory} for a machine's {@code nics}:
 *       {@code Machine.builder(config).devices(VirtioNetDevices::create)}; one event loop group per machine, epoll or
 *       NIO as the {@code net} section says.</li>
 *   <li>{@link dev.jvmm.net.VirtioNetDevice} — one NIC: {@code boundPort()}, {@code stats()}, its EventIDs.</li>
 *   <li>{@link dev.jvmm.net.NicStats} — a snapshot of a NIC's counters ({@link dev.jvmm.net.NicCounter}).</li>
 *   <li>{@link dev.jvmm.net.NetBackend} — the host side, which users can implement
 *       ({@link dev.jvmm.net.VirtioNetDevices#withBackends}).</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * vCPU threads touch only registers; everything that reads or writes the rings runs on the NIC's event loop. A
 * doorbell is handed over through a pre-allocated, coalescing task; a reset waits until the loop has let go of the
 * rings. Nothing the guest writes can throw out of any of these threads.
 *
 * <p>The specification-level pieces (register and ring layouts, the transport, the split virtqueue) are in
 * {@link dev.jvmm.net.virtio}; the built-in backends in {@link dev.jvmm.net.backend}; the receive benchmark in
 * vmm-bench.
 */
package dev.jvmm.net;
