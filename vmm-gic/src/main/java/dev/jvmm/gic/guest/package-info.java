/**
 * Guest-side code for the GICv3: a driver that sets up the LPI tables and drives an ITS with commands in guest
 * RAM, as Linux's {@code irq-gic-v3-its.c} does, using nothing but what a guest has (MMIO through the bus, guest
 * memory, the CPU-interface system registers). The stress benchmark's guests and the conformance tests use it; it
 * runs on a vCPU (a {@link dev.jvmm.core.vcpu.GuestCpu} is a {@link dev.jvmm.core.vcpu.GuestAccess}) or on any thread that
 * holds the bus and the memory.
 */
package dev.jvmm.gic.guest;
