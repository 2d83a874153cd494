/**
 * The GICv3 interrupt controller with LPIs and the ITS: {@link dev.jvmm.gic.GicV3} is the entry point.
 *
 * <pre>
 *   ITS (commands, devices, entries) ──translate──▶ Lpi ──guarded delivery──▶ Redistributor (pending by priority)
 *        │                                                                        │
 *        └── translation cache (dev.jvmm.gic.cache): (ITS, DeviceID, EventID) ▶ entry      CPU interface: IAR1/EOIR1
 * </pre>
 *
 * <p>Public here: the controller, its statistics, and the register, command and table layouts (the
 * {@code *Descriptor} classes), which guest-side code uses too. Everything else is package-private.
 */
package dev.jvmm.gic;
