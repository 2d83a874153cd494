package dev.jvmm.virt;

import dev.jvmm.arm64.Arm64Cpu;
import dev.jvmm.arm64.Arm64System;
import dev.jvmm.arm64.HypervisorCall;
import dev.jvmm.core.memory.RamRegion;

import java.util.concurrent.atomic.LongAdder;

/**
 * PSCI (Arm Power State Coordination Interface, DEN 0022D) and the rest of SMCCC as the {@code virt} board's firmware
 * answers them, jvmm playing EL2/EL3 as QEMU's TCG ({@code target/arm/psci.c}, 7.2) and KVM do: HVC from EL1 (the
 * conduit the device tree names), and SMC too unless the board makes SMC UNDEFINED as QEMU does
 * ({@link Arm64System#setSmcUndefined}).
 *
 * <pre>
 *  function (W0)             SMC32 / SMC64             answer
 *  PSCI_VERSION              0x8400_0000               0x0001_0001: 1.1, as QEMU 7.2 answers (its tree says 1.0)
 *  CPU_SUSPEND               0x8400_0001 / 0xC400_0001 a WFI, then SUCCESS; INVALID_PARAMETERS for power_state bits
 *                                                      QEMU does not take (0xFFFE_0000: affinity levels, powerdown)
 *  CPU_OFF                   0x8400_0002               the caller stops until a CPU_ON; never returns
 *  CPU_ON                    0x8400_0003 / 0xC400_0003 x1 target MPIDR, x2 entry, x3 context id (the target's x0);
 *                                                      INVALID_PARAMETERS (no such MPIDR, entry not 4-aligned),
 *                                                      INVALID_ADDRESS (entry outside RAM), ALREADY_ON, ON_PENDING
 *  AFFINITY_INFO             0x8400_0004 / 0xC400_0004 0 on, 1 off, 2 on pending; levels 1..3: 0 (always on)
 *  MIGRATE                   0x8400_0005 / 0xC400_0005 NOT_SUPPORTED
 *  MIGRATE_INFO_TYPE         0x8400_0006               2: no Trusted OS that needs migrating
 *  SYSTEM_OFF                0x8400_0008               the machine powers off (the caller stops at once)
 *  SYSTEM_RESET              0x8400_0009               the machine resets (the caller stops at once)
 *  PSCI_FEATURES             0x8400_000A               0 for each function above but MIGRATE; NOT_SUPPORTED else
 *  anything else                                       NOT_SUPPORTED (-1), as SMCCC asks for an unknown function
 * </pre>
 *
 * SMC32 functions take 32-bit arguments (SMCCC 1.3, 2.6: the upper halves of W1..W3 are ignored), and the function
 * id is W0 for every call, as KVM reads it. Arguments are the guest's: every one is checked, and a CPU_ON race between
 * two callers is decided under one lock, so exactly one of them sees SUCCESS.
 */
final class Psci implements HypervisorCall {
    static final int PSCI_VERSION = 0x8400_0000;
    static final int CPU_SUSPEND_32 = 0x8400_0001;
    static final int CPU_SUSPEND_64 = 0xC400_0001;
    static final int CPU_OFF = 0x8400_0002;
    static final int CPU_ON_32 = 0x8400_0003;
    static final int CPU_ON_64 = 0xC400_0003;
    static final int AFFINITY_INFO_32 = 0x8400_0004;
    static final int AFFINITY_INFO_64 = 0xC400_0004;
    static final int MIGRATE_32 = 0x8400_0005;
    static final int MIGRATE_64 = 0xC400_0005;
    static final int MIGRATE_INFO_TYPE = 0x8400_0006;
    static final int SYSTEM_OFF = 0x8400_0008;
    static final int SYSTEM_RESET = 0x8400_0009;
    static final int PSCI_FEATURES = 0x8400_000A;

    /** PSCI 1.1 (major 1, minor 1), what QEMU 7.2's TCG answers. */
    static final long VERSION_1_1 = 0x1_0001L;
    /** Bit 30 of a function id: the SMC64 calling convention. */
    static final int SMC64 = 1 << 30;

    static final long SUCCESS = 0;
    static final long NOT_SUPPORTED = -1;
    static final long INVALID_PARAMETERS = -2;
    static final long ALREADY_ON = -4;
    static final long ON_PENDING = -5;
    static final long INVALID_ADDRESS = -9;

    /** AFFINITY_INFO's answers. */
    static final long AFFINITY_ON = 0;
    static final long AFFINITY_OFF = 1;
    static final long AFFINITY_ON_PENDING = 2;
    /** MIGRATE_INFO_TYPE: "Trusted OS is either not present or does not require migration". */
    static final long MIGRATE_NOT_REQUIRED = 2;

    /** CPU_SUSPEND power_state bits QEMU refuses (StateType powerdown, affinity levels): INVALID_PARAMETERS. */
    static final long SUSPEND_UNSUPPORTED_BITS = 0xFFFE_0000L;

    /** MPIDR_EL1's affinity fields (Aff3 39:32, Aff2 23:16, Aff1 15:8, Aff0 7:0): what CPU_ON's target holds. */
    static final long MPIDR_AFFINITY = 0xFF_00FF_FFFFL;

    /** What a system-wide call asks of the board. */
    interface SystemControl {
        void systemOff(int cpu);

        void systemReset(int cpu);
    }

    private final Arm64System system;
    private final RamRegion ram;
    private final SystemControl control;
    private final Object powerLock = new Object();
    private final LongAdder calls = new LongAdder();
    private final LongAdder refused = new LongAdder();

    Psci(Arm64System system, RamRegion ram, SystemControl control) {
        this.system = system;
        this.ram = ram;
        this.control = control;
    }

    @Override
    public void call(Arm64Cpu cpu, Conduit conduit, int imm16) {
        calls.increment();
        int fn = (int) cpu.x(0);
        boolean smc64 = (fn & SMC64) != 0;
        long a1 = arg(cpu, 1, smc64);
        long a2 = arg(cpu, 2, smc64);
        long a3 = arg(cpu, 3, smc64);
        long r;
        switch (fn) {
            case PSCI_VERSION:
                r = VERSION_1_1;
                break;
            case CPU_SUSPEND_32:
            case CPU_SUSPEND_64:
                if ((a1 & SUSPEND_UNSUPPORTED_BITS) != 0) {
                    r = INVALID_PARAMETERS;
                    break;
                }
                // QEMU: "Powerdown is not supported, we always go into WFI" (x0 = 0 first).
                cpu.setX(0, SUCCESS);
                cpu.waitForInterruptInCall();
                return;
            case CPU_OFF:
                cpu.powerOff();
                return;
            case CPU_ON_32:
            case CPU_ON_64:
                r = cpuOn(a1, a2, a3);
                break;
            case AFFINITY_INFO_32:
            case AFFINITY_INFO_64:
                r = affinityInfo(a1, a2);
                break;
            case MIGRATE_INFO_TYPE:
                r = MIGRATE_NOT_REQUIRED;
                break;
            case SYSTEM_OFF:
                cpu.powerOff();                              // PSCI: never returns; the board ends the machine
                control.systemOff(cpu.index());
                return;
            case SYSTEM_RESET:
                cpu.powerOff();
                control.systemReset(cpu.index());
                return;
            case PSCI_FEATURES:
                r = features((int) a1);
                break;
            default:
                r = NOT_SUPPORTED;                           // MIGRATE included, and every non-PSCI function
                break;
        }
        if (r < 0) {
            refused.increment();
        }
        cpu.setX(0, r);
    }

    private static long arg(Arm64Cpu cpu, int n, boolean smc64) {
        long v = cpu.x(n);
        return smc64 ? v : v & 0xFFFF_FFFFL;
    }

    /** PSCI 1.0, 5.1.4 "CPU_ON"; QEMU's arm_set_cpu_on for the order of the checks. */
    private long cpuOn(long targetMpidr, long entry, long contextId) {
        if ((entry & 3) != 0) {
            return INVALID_PARAMETERS;                       // an AArch64 entry point must be 4-byte aligned
        }
        Arm64Cpu target = byMpidr(targetMpidr);
        if (target == null) {
            return INVALID_PARAMETERS;
        }
        // QEMU starts the CPU whatever the address (it faults at once); PSCI 1.0 has INVALID_ADDRESS for an entry
        // "known to be invalid", and outside RAM nothing can run.
        if (Long.compareUnsigned(entry, ram.base()) < 0 || Long.compareUnsigned(entry, ram.end()) >= 0) {
            return INVALID_ADDRESS;
        }
        synchronized (powerLock) {
            if (target.isPoweredOn()) {
                return ALREADY_ON;
            }
            if (target.isPowerOnPending()) {
                return ON_PENDING;
            }
            return target.powerOn(entry, contextId) ? SUCCESS : ALREADY_ON;
        }
    }

    /** PSCI 1.0, 5.1.5 "AFFINITY_INFO". */
    private long affinityInfo(long targetMpidr, long lowestLevel) {
        if (lowestLevel > 3) {
            return INVALID_PARAMETERS;
        }
        if (lowestLevel != 0) {
            return AFFINITY_ON;                              // QEMU: "Everything above affinity level 0 is always on"
        }
        Arm64Cpu target = byMpidr(targetMpidr);
        if (target == null) {
            return INVALID_PARAMETERS;
        }
        synchronized (powerLock) {
            return target.isPoweredOn() ? AFFINITY_ON : target.isPowerOnPending() ? AFFINITY_ON_PENDING : AFFINITY_OFF;
        }
    }

    /** PSCI 1.0, 5.1.14 "PSCI_FEATURES": the functions implemented here, MIGRATE excepted. */
    static long features(int fn) {
        switch (fn) {
            case PSCI_VERSION:
            case CPU_SUSPEND_32:
            case CPU_SUSPEND_64:
            case CPU_OFF:
            case CPU_ON_32:
            case CPU_ON_64:
            case AFFINITY_INFO_32:
            case AFFINITY_INFO_64:
            case MIGRATE_INFO_TYPE:
            case SYSTEM_OFF:
            case SYSTEM_RESET:
            case PSCI_FEATURES:
                return SUCCESS;
            default:
                return NOT_SUPPORTED;
        }
    }

    /** The CPU whose MPIDR affinity is exactly {@code mpidr} (bits outside the affinity fields must be zero). */
    private Arm64Cpu byMpidr(long mpidr) {
        if ((mpidr & ~MPIDR_AFFINITY) != 0) {
            return null;
        }
        for (int i = 0; i < system.cpuCount(); i++) {
            Arm64Cpu c = system.cpu(i);
            if ((c.mpidr() & MPIDR_AFFINITY) == mpidr) {
                return c;
            }
        }
        return null;
    }

    /** Calls served, and those answered with an error code. */
    long calls() {
        return calls.sum();
    }

    long refused() {
        return refused.sum();
    }
}
