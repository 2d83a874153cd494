/**
 * The built-in host backends, both over one Netty datagram channel on the NIC's event loop:
 * {@link dev.jvmm.net.backend.UdpForwardBackend} ({@code udp}: port forwarding into synthesized Ethernet/IPv4/UDP
 * frames, QEMU hostfwd style) and {@link dev.jvmm.net.backend.UdpTunnelBackend} ({@code udp-tunnel}: one Ethernet
 * frame per datagram, QEMU {@code -netdev dgram} compatible).
 *
 * <p>Both read the socket only while the guest has receive buffers (autoRead, gated per datagram), hold back at most
 * one datagram, and copy each datagram once, straight from a recycled receive buffer into guest memory. On NIO event
 * loops the channel is {@link dev.jvmm.net.backend.NioUdpChannel}, whose recycled envelopes make the receive path
 * allocation-free.
 */
package dev.jvmm.net.backend;
