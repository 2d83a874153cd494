package dev.jvmm.arm64;

/**
 * The system registers this CPU implements, by their Arm ARM names and encodings (op0, op1, CRn, CRm, op2), with
 * who may access them and how they are stored. The GIC CPU-interface registers are not here: they belong to the
 * interrupt controller ({@link dev.jvmm.core.vcpu.SystemRegister}), and {@link SysRegs} routes them there.
 *
 * <p>Access: {@code r1}/{@code w1} say whether EL1 may read/write; {@code r0}/{@code w0} whether EL0 may, and
 * {@link Gate} which control bit allows an EL0 access that the architecture lets EL1 trap (an EL0 access without
 * its gate is trapped to EL1 with EC 0x18, as SCTLR_EL1.UCT/UMA and CNTKCTL_EL1 define; an access the architecture
 * never allows is UNDEFINED). Values: {@link Kind#STORED} registers live in {@link ArchState#sys}, {@link Kind#CONST}
 * ones are the Cortex-A57 r1p0 identification values (Arm Cortex-A57 TRM, chapter 4, "System Control"), adjusted
 * where this CPU differs (no FP/AdvSIMD, no AArch32, no PMU, no 16K granule, little-endian only), and
 * {@link Kind#SPECIAL} ones are computed by {@link SysRegs}.
 */
enum SysReg {
    // ---------------------------------------------------------------- identification (Arm ARM D17.2)
    MIDR_EL1(3, 0, 0, 0, 0, "r1", Kind.CONST, 0x411F_D070L),
    MPIDR_EL1(3, 0, 0, 0, 5, "r1", Kind.SPECIAL, 0),
    REVIDR_EL1(3, 0, 0, 0, 6, "r1", Kind.CONST, 0),
    /** EL0 = EL1 = AArch64 only; EL2, EL3 not implemented; FP = AdvSIMD = 0xF (absent); GIC = 1 (ICC_* registers). */
    ID_AA64PFR0_EL1(3, 0, 0, 4, 0, "r1", Kind.CONST, 0x01FF_0011L),
    ID_AA64PFR1_EL1(3, 0, 0, 4, 1, "r1", Kind.CONST, 0),
    /** DebugVer 6 (v8.0), BRPs 6, WRPs 4, CTX_CMPs 2 as a Cortex-A57; PMUVer 0: no PMU here. */
    ID_AA64DFR0_EL1(3, 0, 0, 5, 0, "r1", Kind.CONST, 0x1030_5006L),
    ID_AA64DFR1_EL1(3, 0, 0, 5, 1, "r1", Kind.CONST, 0),
    ID_AA64AFR0_EL1(3, 0, 0, 5, 4, "r1", Kind.CONST, 0),
    ID_AA64AFR1_EL1(3, 0, 0, 5, 5, "r1", Kind.CONST, 0),
    /** CRC32 = 1; AES/SHA (AdvSIMD instructions) 0 since AdvSIMD is absent; Atomic = 0: no LSE on a Cortex-A57. */
    ID_AA64ISAR0_EL1(3, 0, 0, 6, 0, "r1", Kind.CONST, 0x0001_0000L),
    ID_AA64ISAR1_EL1(3, 0, 0, 6, 1, "r1", Kind.CONST, 0),
    /** PARange 44 bits, 16-bit ASIDs, SNSMem; mixed endian not supported; 4K and 64K granules, not 16K. */
    ID_AA64MMFR0_EL1(3, 0, 0, 7, 0, "r1", Kind.CONST, 0x0000_1024L),
    ID_AA64MMFR1_EL1(3, 0, 0, 7, 1, "r1", Kind.CONST, 0),
    ID_AA64MMFR2_EL1(3, 0, 0, 7, 2, "r1", Kind.CONST, 0),
    /** 64-byte lines, PIPT instruction cache, ERG and CWG of 64 bytes (the Cortex-A57 value). */
    CTR_EL0(3, 3, 0, 0, 1, "r1 r0", Gate.UCT, Kind.CONST, 0x8444_C004L),
    /** DC ZVA zeroes 64 bytes (BS = 4) and is permitted (DZP = 0, see SCTLR_EL1.DZE for EL0). */
    DCZID_EL0(3, 3, 0, 0, 7, "r1 r0", Kind.SPECIAL, 0),
    CLIDR_EL1(3, 1, 0, 0, 1, "r1", Kind.CONST, 0x0A20_0023L),
    CCSIDR_EL1(3, 1, 0, 0, 0, "r1", Kind.SPECIAL, 0),
    CSSELR_EL1(3, 2, 0, 0, 0, "r1 w1", Kind.STORED, 0),
    AIDR_EL1(3, 1, 0, 0, 7, "r1", Kind.CONST, 0),

    // ---------------------------------------------------------------- EL1 control and the translation regime
    /** Reset value of the Cortex-A57 TRM (and QEMU): MMU and caches off; SA, SA0, nTWI, nTWE and RES1 bits set. */
    SCTLR_EL1(3, 0, 1, 0, 0, "r1 w1", Kind.STORED, 0x00C5_0838L),
    ACTLR_EL1(3, 0, 1, 0, 1, "r1 w1", Kind.STORED, 0),
    CPACR_EL1(3, 0, 1, 0, 2, "r1 w1", Kind.STORED, 0),
    TTBR0_EL1(3, 0, 2, 0, 0, "r1 w1", Kind.STORED, 0),
    TTBR1_EL1(3, 0, 2, 0, 1, "r1 w1", Kind.STORED, 0),
    TCR_EL1(3, 0, 2, 0, 2, "r1 w1", Kind.STORED, 0),
    SPSR_EL1(3, 0, 4, 0, 0, "r1 w1", Kind.STORED, 0),
    ELR_EL1(3, 0, 4, 0, 1, "r1 w1", Kind.STORED, 0),
    SP_EL0(3, 0, 4, 1, 0, "r1 w1", Kind.SPECIAL, 0),
    SPSEL(3, 0, 4, 2, 0, "r1 w1", Kind.SPECIAL, 0),
    CURRENTEL(3, 0, 4, 2, 2, "r1", Kind.SPECIAL, 0),
    DAIF(3, 3, 4, 2, 1, "r1 w1 r0 w0", Gate.UMA, Kind.SPECIAL, 0),
    NZCV(3, 3, 4, 2, 0, "r1 w1 r0 w0", Kind.SPECIAL, 0),
    AFSR0_EL1(3, 0, 5, 1, 0, "r1 w1", Kind.STORED, 0),
    AFSR1_EL1(3, 0, 5, 1, 1, "r1 w1", Kind.STORED, 0),
    ESR_EL1(3, 0, 5, 2, 0, "r1 w1", Kind.STORED, 0),
    FAR_EL1(3, 0, 6, 0, 0, "r1 w1", Kind.STORED, 0),
    PAR_EL1(3, 0, 7, 4, 0, "r1 w1", Kind.STORED, 0),
    MAIR_EL1(3, 0, 10, 2, 0, "r1 w1", Kind.STORED, 0),
    AMAIR_EL1(3, 0, 10, 3, 0, "r1 w1", Kind.STORED, 0),
    VBAR_EL1(3, 0, 12, 0, 0, "r1 w1", Kind.STORED, 0),
    /** Present because EL1 is the highest exception level this CPU implements; reset starts at the board's PC. */
    RVBAR_EL1(3, 0, 12, 0, 1, "r1", Kind.CONST, 0),
    ISR_EL1(3, 0, 12, 1, 0, "r1", Kind.SPECIAL, 0),
    CONTEXTIDR_EL1(3, 0, 13, 0, 1, "r1 w1", Kind.STORED, 0),
    TPIDR_EL1(3, 0, 13, 0, 4, "r1 w1", Kind.STORED, 0),
    TPIDR_EL0(3, 3, 13, 0, 2, "r1 w1 r0 w0", Kind.STORED, 0),
    TPIDRRO_EL0(3, 3, 13, 0, 3, "r1 w1 r0", Kind.STORED, 0),

    // ---------------------------------------------------------------- generic timer (Arm ARM D11)
    CNTKCTL_EL1(3, 0, 14, 1, 0, "r1 w1", Kind.STORED, 0),
    CNTFRQ_EL0(3, 3, 14, 0, 0, "r1 w1 r0", Gate.CNT_FRQ, Kind.SPECIAL, 0),
    CNTPCT_EL0(3, 3, 14, 0, 1, "r1 r0", Gate.CNT_PCT, Kind.SPECIAL, 0),
    CNTVCT_EL0(3, 3, 14, 0, 2, "r1 r0", Gate.CNT_VCT, Kind.SPECIAL, 0),
    CNTP_TVAL_EL0(3, 3, 14, 2, 0, "r1 w1 r0 w0", Gate.CNT_PT, Kind.SPECIAL, 0),
    CNTP_CTL_EL0(3, 3, 14, 2, 1, "r1 w1 r0 w0", Gate.CNT_PT, Kind.SPECIAL, 0),
    CNTP_CVAL_EL0(3, 3, 14, 2, 2, "r1 w1 r0 w0", Gate.CNT_PT, Kind.SPECIAL, 0),
    CNTV_TVAL_EL0(3, 3, 14, 3, 0, "r1 w1 r0 w0", Gate.CNT_VT, Kind.SPECIAL, 0),
    CNTV_CTL_EL0(3, 3, 14, 3, 1, "r1 w1 r0 w0", Gate.CNT_VT, Kind.SPECIAL, 0),
    CNTV_CVAL_EL0(3, 3, 14, 3, 2, "r1 w1 r0 w0", Gate.CNT_VT, Kind.SPECIAL, 0),

    // ---------------------------------------------------------------- debug registers a kernel touches: state only
    // (no breakpoint, watchpoint or software-step debug exception is generated; see the report's list of what is left)
    OSDTRRX_EL1(2, 0, 0, 0, 2, "r1 w1", Kind.STORED, 0),
    MDCCINT_EL1(2, 0, 0, 2, 0, "r1 w1", Kind.STORED, 0),
    MDSCR_EL1(2, 0, 0, 2, 2, "r1 w1", Kind.STORED, 0),
    OSDTRTX_EL1(2, 0, 0, 3, 2, "r1 w1", Kind.STORED, 0),
    OSECCR_EL1(2, 0, 0, 6, 2, "r1 w1", Kind.STORED, 0),
    DBGBVR0_EL1(2, 0, 0, 0, 4, "r1 w1", Kind.STORED, 0), DBGBCR0_EL1(2, 0, 0, 0, 5, "r1 w1", Kind.STORED, 0),
    DBGWVR0_EL1(2, 0, 0, 0, 6, "r1 w1", Kind.STORED, 0), DBGWCR0_EL1(2, 0, 0, 0, 7, "r1 w1", Kind.STORED, 0),
    DBGBVR1_EL1(2, 0, 0, 1, 4, "r1 w1", Kind.STORED, 0), DBGBCR1_EL1(2, 0, 0, 1, 5, "r1 w1", Kind.STORED, 0),
    DBGWVR1_EL1(2, 0, 0, 1, 6, "r1 w1", Kind.STORED, 0), DBGWCR1_EL1(2, 0, 0, 1, 7, "r1 w1", Kind.STORED, 0),
    DBGBVR2_EL1(2, 0, 0, 2, 4, "r1 w1", Kind.STORED, 0), DBGBCR2_EL1(2, 0, 0, 2, 5, "r1 w1", Kind.STORED, 0),
    DBGWVR2_EL1(2, 0, 0, 2, 6, "r1 w1", Kind.STORED, 0), DBGWCR2_EL1(2, 0, 0, 2, 7, "r1 w1", Kind.STORED, 0),
    DBGBVR3_EL1(2, 0, 0, 3, 4, "r1 w1", Kind.STORED, 0), DBGBCR3_EL1(2, 0, 0, 3, 5, "r1 w1", Kind.STORED, 0),
    DBGWVR3_EL1(2, 0, 0, 3, 6, "r1 w1", Kind.STORED, 0), DBGWCR3_EL1(2, 0, 0, 3, 7, "r1 w1", Kind.STORED, 0),
    DBGBVR4_EL1(2, 0, 0, 4, 4, "r1 w1", Kind.STORED, 0), DBGBCR4_EL1(2, 0, 0, 4, 5, "r1 w1", Kind.STORED, 0),
    DBGBVR5_EL1(2, 0, 0, 5, 4, "r1 w1", Kind.STORED, 0), DBGBCR5_EL1(2, 0, 0, 5, 5, "r1 w1", Kind.STORED, 0),
    MDRAR_EL1(2, 0, 1, 0, 0, "r1", Kind.CONST, 0),
    OSLAR_EL1(2, 0, 1, 0, 4, "w1", Kind.SPECIAL, 0),
    /** OSLM = 0b10 (OS Lock implemented), OSLK from OSLAR_EL1; locked at reset. */
    OSLSR_EL1(2, 0, 1, 1, 4, "r1", Kind.SPECIAL, 0),
    OSDLR_EL1(2, 0, 1, 3, 4, "r1 w1", Kind.STORED, 0),
    DBGPRCR_EL1(2, 0, 1, 4, 4, "r1 w1", Kind.STORED, 0),
    DBGCLAIMSET_EL1(2, 0, 7, 8, 6, "r1 w1", Kind.SPECIAL, 0),
    DBGCLAIMCLR_EL1(2, 0, 7, 9, 6, "r1 w1", Kind.SPECIAL, 0),
    DBGAUTHSTATUS_EL1(2, 0, 7, 14, 6, "r1", Kind.CONST, 0),
    MDCCSR_EL0(2, 3, 0, 1, 0, "r1", Kind.CONST, 0),

    // ---------------------------------------------------------------- Cortex-A57 IMPLEMENTATION DEFINED (as QEMU's)
    L2CTLR_EL1(3, 1, 11, 0, 2, "r1 w1", Kind.SPECIAL, 0),
    L2ECTLR_EL1(3, 1, 11, 0, 3, "r1 w1", Kind.STORED, 0),
    L2ACTLR_EL1(3, 1, 15, 0, 0, "r1 w1", Kind.STORED, 0),
    CPUACTLR_EL1(3, 1, 15, 2, 0, "r1 w1", Kind.STORED, 0),
    CPUECTLR_EL1(3, 1, 15, 2, 1, "r1 w1", Kind.STORED, 0),
    CPUMERRSR_EL1(3, 1, 15, 2, 2, "r1 w1", Kind.STORED, 0),
    L2MERRSR_EL1(3, 1, 15, 2, 3, "r1 w1", Kind.STORED, 0);

    enum Kind { STORED, CONST, SPECIAL }

    /** What lets EL0 access a register that EL1 may trap (otherwise EC 0x18 to EL1). */
    enum Gate {
        NONE,
        /** SCTLR_EL1.UCT: CTR_EL0. */
        UCT,
        /** SCTLR_EL1.UMA: DAIF and MSR DAIFSet/DAIFClr. */
        UMA,
        /** CNTKCTL_EL1.EL0PCTEN: CNTPCT_EL0 (and CNTFRQ_EL0). */
        CNT_PCT,
        /** CNTKCTL_EL1.EL0VCTEN: CNTVCT_EL0 (and CNTFRQ_EL0). */
        CNT_VCT,
        /** EL0PCTEN or EL0VCTEN. */
        CNT_FRQ,
        /** CNTKCTL_EL1.EL0PTEN: the physical timer registers. */
        CNT_PT,
        /** CNTKCTL_EL1.EL0VTEN: the virtual timer registers. */
        CNT_VT
    }

    final int op0;
    final int op1;
    final int crn;
    final int crm;
    final int op2;
    final boolean r1;
    final boolean w1;
    final boolean r0;
    final boolean w0;
    final Gate gate;
    final Kind kind;
    /** The reset value (STORED) or the value (CONST). */
    final long value;
    /** The MRS/MSR key ({@link Decoder#sysKey}). */
    final int key;

    SysReg(int op0, int op1, int crn, int crm, int op2, String access, Kind kind, long value) {
        this(op0, op1, crn, crm, op2, access, Gate.NONE, kind, value);
    }

    SysReg(int op0, int op1, int crn, int crm, int op2, String access, Gate gate, Kind kind, long value) {
        this.op0 = op0;
        this.op1 = op1;
        this.crn = crn;
        this.crm = crm;
        this.op2 = op2;
        this.r1 = access.contains("r1");
        this.w1 = access.contains("w1");
        this.r0 = access.contains("r0");
        this.w0 = access.contains("w0");
        this.gate = gate;
        this.kind = kind;
        this.value = value;
        this.key = Decoder.sysKey(op0, op1, crn, crm, op2);
    }

    private static final SysReg[] BY_KEY = new SysReg[1 << 16];

    static {
        for (SysReg r : values()) {
            if (BY_KEY[r.key] != null) {
                throw new IllegalStateException(r + " and " + BY_KEY[r.key] + " share an encoding");
            }
            BY_KEY[r.key] = r;
        }
    }

    /** The register with this key, or null. */
    static SysReg byKey(int key) {
        return key >= 0 && key < BY_KEY.length ? BY_KEY[key] : null;
    }

    /** The register with this Arm ARM name (case-insensitive), or null. */
    static SysReg byName(String name) {
        for (SysReg r : values()) {
            if (r.name().equalsIgnoreCase(name)) {
                return r;
            }
        }
        return null;
    }

    /** Whether a key is in the AArch64 identification space that reads as zero when unallocated (Arm ARM D17.2). */
    static boolean isRazIdSpace(int key) {
        int op0 = key >>> 14;
        int op1 = key >>> 11 & 7;
        int crn = key >>> 7 & 15;
        int crm = key >>> 3 & 15;
        return op0 == 3 && op1 == 0 && crn == 0 && crm >= 1 && crm <= 7;
    }

    String encoding() {
        return "S" + op0 + "_" + op1 + "_C" + crn + "_C" + crm + "_" + op2;
    }
}
