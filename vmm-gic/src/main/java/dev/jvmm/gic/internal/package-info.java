/**
 * Building blocks of vmm-gic that are not API: public only so that the {@code gic} and {@code gic.cache} packages
 * can share them. Do not use them from other modules.
 *
 * <h2>Memory-ordering vocabulary</h2>
 * As in JCTools and Agrona, a method name says what it promises: {@code get} on {@link
 * dev.jvmm.gic.internal.LongObjectMap} is an acquire load that pairs with the writer's release stores, so a reader
 * that finds a key sees the value and everything written before it was published.
 */
package dev.jvmm.gic.internal;
