/**
 * The receive benchmark ({@link dev.jvmm.net.bench.RxThroughput}): datagrams per second into guest buffers through
 * one NIC in a real machine, against a plain Netty receiver, and event-loop bytes allocated per datagram. Its guest
 * is a minimal receive-only driver running on vCPU 0; its interrupt controller
 * ({@link dev.jvmm.net.bench.CountingInterruptController}) counts MSIs without depending on vmm-gic.
 */
package dev.jvmm.net.bench;
