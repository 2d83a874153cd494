package dev.jvmm.core.vcpu;

/**
 * A vCPU's exit counters (in the spirit of KVM's per-vCPU debugfs statistics).
 *
 * @param mmioExits         trapped MMIO loads and stores
 * @param sysregExits       trapped system-register accesses
 * @param wfiExits          WFI instructions executed
 * @param wfiImmediate      WFIs that found an interrupt already pending
 * @param haltPollSuccesses WFIs woken while polling (no sleep)
 * @param halts             WFIs that slept until kicked
 * @param parkedNanos       total time asleep in WFI
 * @param haltPollWindow    the halt-polling window in use now, nanoseconds (adaptive windows move)
 */
public record VcpuStats(int index, VcpuState state, long mmioExits, long sysregExits, long wfiExits, long wfiImmediate,
                        long haltPollSuccesses, long halts, long parkedNanos, long haltPollWindow) {
}
