/**
 * The GICv3 interrupt controller: SGIs, PPIs, SPIs, LPIs and the ITS; {@link dev.jvmm.gic.GicV3} is the entry point.
 *
 * <pre>
 *   ITS (commands, devices, entries) ──translate──▶ Lpi ──guarded delivery──▶ Redistributor (pending LPIs by priority)
 *        │                                                                        │
 *        └── translation cache (dev.jvmm.gic.cache): (ITS, DeviceID, EventID) ▶ entry      CPU interface (ICC_*_EL1):
 *   Distributor (SPIs) ─┐                                                                  one arbitration over
 *   SGI_base (SGIs, PPIs)┴─▶ WiredInterrupts (state, routing, 1 of N) ─▶ per vCPU best ─────▶ wired and LPIs
 * </pre>
 *
 * <p>Every register frame (GICD, GICR RD_base and SGI_base, the ITS) is decoded by a {@code RegisterTable} of rows
 * (Linux's {@code vgic_register_region} tables); an access no row decodes is RAZ/WI.
 *
 * <p>Public here: the controller, its statistics, and the register, command and table layouts (the
 * {@code *Descriptor} classes), which guest-side code uses too. Everything else is package-private.
 */
package dev.jvmm.gic;
