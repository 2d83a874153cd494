/**
 * The virtio 1.x pieces that do not depend on the device type: the register and ring layouts as named constants
 * ({@link dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor}, {@link dev.jvmm.net.virtio.SplitVirtqDescriptor},
 * {@link dev.jvmm.net.virtio.VirtioNetDescriptor}, {@link dev.jvmm.net.virtio.VirtioStatus},
 * {@link dev.jvmm.net.virtio.VirtioFeatures}), the virtio-mmio version 2 transport
 * ({@link dev.jvmm.net.virtio.VirtioMmioTransport}) in front of a {@link dev.jvmm.net.virtio.VirtioDevice}, and the
 * device side of a split virtqueue ({@link dev.jvmm.net.virtio.SplitQueue},
 * {@link dev.jvmm.net.virtio.DescriptorChain}) with every check the guest is owed.
 *
 * <p>Guest code (the launcher's toy driver, tests, the benchmark's guest) can use the layout classes to build its
 * side of the rings; nothing in them is a magic number.
 *
 * <h2>Memory ordering, by method</h2>
 * {@code SplitQueue.available()} is an acquire load of avail.idx; {@code publishUsed()} a release store of
 * used.idx; {@code enableNotification()} and {@code notifyDecision()} issue full fences between their store and
 * their load, as section 2.7.10 and Linux's {@code vhost_notify} require.
 */
package dev.jvmm.net.virtio;
