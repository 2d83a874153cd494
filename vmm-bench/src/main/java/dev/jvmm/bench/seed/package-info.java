/**
 * {@code vmm bench seed}: the measurement of the Linux kernel patch this project grew from (8 LRU shards for the
 * vgic-its translation cache), reproduced on a whole jvmm machine and compared with every injection path the
 * project has.
 *
 * <pre>
 *  sender (iperf2 or built-in) ──UDP──▶ NIC sockets ──▶ {@link dev.jvmm.bench.seed.EndToEndProbe}'s backend
 *                                                        decorator: t0 (arrival)
 *      ──▶ virtio-net RX ring ──▶ irqfd signal t1 ──▶ worker / cached path ──▶ LPI pending t2 (IrqRouter histograms)
 *      ──▶ vCPU wakes, guest reads ICC_IAR1_EL1: t3 (the probe's observer)
 * </pre>
 *
 * <table>
 *   <caption>The pieces</caption>
 *   <tr><td>{@link dev.jvmm.bench.seed.SeedHarness}</td><td>the entry point: sender, schedule, report files
 *       ({@code vmm bench seed} in the launcher is its command line)</td></tr>
 *   <tr><td>{@link dev.jvmm.bench.seed.MachineFactory}</td><td>the machines, wired by the caller</td></tr>
 *   <tr><td>{@link dev.jvmm.bench.seed.SeedOptions}</td><td>validated options, usage messages</td></tr>
 *   <tr><td>{@link dev.jvmm.bench.seed.SeedCell}</td><td>the compared setups (irq mode x cache)</td></tr>
 *   <tr><td>{@link dev.jvmm.bench.seed.EndToEndProbe}</td><td>t0 → t3, allocation-free</td></tr>
 *   <tr><td>{@code SeedBenchmark}</td><td>the interleaved schedule: warm-up, reset, measure, snapshot</td></tr>
 *   <tr><td>{@link dev.jvmm.bench.traffic.PlainReceiver}, {@code TrafficSender}</td><td>the baseline (shared with
 *       rx-throughput) and the senders</td></tr>
 *   <tr><td>{@code SeedResults}, {@code SeedReport}, {@code HtmlReport}</td><td>medians, targets, text, JSON,
 *       HTML with SVG percentile plots</td></tr>
 * </table>
 *
 * <p>Every figure the command prints is measured in the same run, except the seed's own kernel figures, which it
 * quotes beside them and marks as coming from other hardware. docs/BENCHMARKS.md explains how to read them.
 */
package dev.jvmm.bench.seed;
