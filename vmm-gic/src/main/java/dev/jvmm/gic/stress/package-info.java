/**
 * The LPI injection stress benchmark, {@link dev.jvmm.gic.stress.LpiStress}: Linux's {@code vgic_lpi_stress} for
 * this GIC, comparing the translation cache strategies on one machine.
 */
package dev.jvmm.gic.stress;
