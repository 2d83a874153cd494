package dev.jvmm.guest;

import dev.jvmm.core.memory.GuestMemory;

import java.util.zip.CRC32;

/**
 * The toy guest's network stack for one NIC and the application on top of it: Ethernet, ARP, IPv4 and UDP with
 * every header check and checksum verified, then either {@code udp-sink} (count, and follow iperf2's sequence
 * numbers to report loss and reordering as the guest saw them) or {@code udp-echo} (send each datagram back to its
 * sender through the transmit queue).
 *
 * <p>With {@code sequence: iperf}, only a datagram that carries a plausible iperf2 header takes part in the loss and
 * reordering figures; any other payload ({@code echo hi | nc -u}, random bytes) is counted as not iperf and leaves
 * them alone. The rule and the flow table are those of the compiled guests' {@code guests/net/netstack.c}
 * ({@code iperf_plausible}, {@code sequence}), so the Java and the compiled guest count the same datagrams alike.
 *
 * <p>Counters go to the NIC's block of the {@link GuestReport} page in guest RAM.
 */
final class UdpApplication implements VirtioNetDriver.FrameSink {
    static final int ETH_HLEN = 14;
    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int ETHERTYPE_ARP = 0x0806;
    static final int IPPROTO_UDP = 17;
    static final int MAX_ECHO_PAYLOAD = 1500 - 20 - 8;
    /** iperf flows followed at once (netstack.h's MAX_FLOWS); a new flow replaces the one seen least recently. */
    static final int MAX_FLOWS = 16;
    /**
     * iperf2's UDP payload starts with {@code struct UDP_datagram { int32 id; uint32 tv_sec; uint32 tv_usec; ... }}
     * in network byte order (iperf2 {@code include/Settings.hpp}): 16 bytes at least, and {@code tv_usec} is a
     * fraction of a second.
     */
    static final int IPERF_HEADER = 16;
    static final int IPERF_TV_USEC = 8;
    static final long USEC_PER_SEC = 1_000_000;

    enum Mode { SINK, ECHO }

    private final GuestMemory ram;
    private final VirtioNetDriver nic;
    private final int index;
    private final Mode mode;
    private final boolean iperf;
    private final int myIp;
    private final int gatewayIp;
    private final int myPort;
    private final byte[] gatewayMac = new byte[6];
    private boolean gatewayKnown;
    private final CRC32 crc = new CRC32();
    private final byte[] out = new byte[ETH_HLEN + 1500];
    /** The iperf flow table (netstack.c's struct flow[MAX_FLOWS]): source, next expected id, when last seen. */
    private final int[] flowIp = new int[MAX_FLOWS];
    private final int[] flowPort = new int[MAX_FLOWS];
    private final boolean[] flowUsed = new boolean[MAX_FLOWS];
    private final long[] flowNext = new long[MAX_FLOWS];
    private final long[] flowLast = new long[MAX_FLOWS];

    private long frames;
    private long bytes;
    private long lost;
    private long reordered;
    private long bad;
    private long crcSum;
    private long echoed;
    private long other;
    private long txDrops;
    private long iperfFins;
    private long iperfDatagrams;
    private long nonIperf;

    /** Guest-side work per datagram (a slow consumer), in nanoseconds of spinning. */
    private final long workNanos;
    /** Reset the NIC once after this many datagrams (0: never). */
    private final long resetAfter;
    private boolean resetDue;
    private final dev.jvmm.core.vcpu.GuestCpu cpu;

    UdpApplication(dev.jvmm.core.vcpu.GuestCpu cpu, VirtioNetDriver nic, Mode mode, boolean iperf, long workNanos,
                   long resetAfter) {
        this(cpu.memory(), nic, mode, iperf, workNanos, resetAfter, cpu);
    }

    private UdpApplication(GuestMemory ram, VirtioNetDriver nic, Mode mode, boolean iperf, long workNanos,
                           long resetAfter, dev.jvmm.core.vcpu.GuestCpu cpu) {
        this.cpu = cpu;
        this.workNanos = workNanos;
        this.resetAfter = resetAfter;
        this.ram = ram;
        this.nic = nic;
        this.index = nic.nic.index();
        this.mode = mode;
        this.iperf = iperf;
        this.myIp = nic.nic.guestIp();
        this.gatewayIp = nic.nic.gatewayIp();
        this.myPort = nic.nic.guestPort();
    }

    /** Asks for the gateway's MAC address (ARP request, broadcast). */
    void resolveGateway() {
        for (int i = 0; i < 6; i++) {
            out[i] = (byte) 0xFF;
        }
        System.arraycopy(nic.mac, 0, out, 6, 6);
        GuestOs.putBe16(out, 12, ETHERTYPE_ARP);
        int a = ETH_HLEN;
        GuestOs.putBe16(out, a, 1);            // hardware type: Ethernet
        GuestOs.putBe16(out, a + 2, ETHERTYPE_IPV4);
        out[a + 4] = 6;
        out[a + 5] = 4;
        GuestOs.putBe16(out, a + 6, 1);        // request
        System.arraycopy(nic.mac, 0, out, a + 8, 6);
        GuestOs.putBe32(out, a + 14, myIp);
        for (int i = 0; i < 6; i++) {
            out[a + 18 + i] = 0;
        }
        GuestOs.putBe32(out, a + 24, gatewayIp);
        if (!nic.transmit(out, ETH_HLEN + 28)) {
            txDrops++;
            publish();
        }
    }

    /** One frame; the counters reach the report page when the batch ends ({@link #publish()}, by the caller). */
    @Override
    public void onFrame(VirtioNetDriver driver, byte[] f, int len) {
        handle(f, len);
    }

    private void handle(byte[] f, int len) {
        if (len < ETH_HLEN) {
            bad++;
            return;
        }
        boolean toMe = true;
        boolean broadcast = true;
        for (int i = 0; i < 6; i++) {
            toMe &= f[i] == nic.mac[i];
            broadcast &= f[i] == (byte) 0xFF;
        }
        if (!toMe && !broadcast) {
            other++;
            return;
        }
        int type = GuestOs.be16(f, 12);
        if (type == ETHERTYPE_ARP) {
            arp(f, len);
            return;
        }
        if (type != ETHERTYPE_IPV4) {
            other++;
            return;
        }
        int ip = ETH_HLEN;
        if (len < ip + 20 || (f[ip] & 0xF0) != 0x40) {
            bad++;
            return;
        }
        int ihl = (f[ip] & 0x0F) * 4;
        int total = GuestOs.be16(f, ip + 2);
        if (ihl < 20 || total < ihl + 8 || ip + total > len) {
            bad++;
            return;
        }
        if (GuestOs.onesComplementSum(f, ip, ihl, 0) != 0xFFFF) {
            bad++;   // IPv4 header checksum
            return;
        }
        int fragment = GuestOs.be16(f, ip + 6);
        if ((fragment & 0x3FFF) != 0 || (f[ip + 9] & 0xFF) != IPPROTO_UDP || GuestOs.be32(f, ip + 16) != myIp) {
            other++;
            return;
        }
        int u = ip + ihl;
        int udpLen = GuestOs.be16(f, u + 4);
        if (udpLen < 8 || u + udpLen > ip + total) {
            bad++;
            return;
        }
        int checksum = GuestOs.be16(f, u + 6);
        if (checksum != 0 && udpChecksum(f, ip, u, udpLen) != 0xFFFF) {
            bad++;
            return;
        }
        if (GuestOs.be16(f, u + 2) != myPort) {
            other++;
            return;
        }
        if (!gatewayKnown) {
            // The frame came through the gateway: its source MAC is the gateway's.
            System.arraycopy(f, 6, gatewayMac, 0, 6);
            gatewayKnown = true;
        }
        int payload = u + 8;
        int payloadLen = udpLen - 8;
        frames++;
        bytes += payloadLen;
        crc.reset();
        crc.update(f, payload, payloadLen);
        crcSum += crc.getValue();
        int srcIp = GuestOs.be32(f, ip + 12);
        int srcPort = GuestOs.be16(f, u);
        if (iperf) {
            if (iperfPlausible(f, payload, payloadLen)) {
                iperfDatagrams++;
                sequence(srcIp, srcPort, GuestOs.be32(f, payload));
            } else {
                nonIperf++;
            }
        }
        if (mode == Mode.ECHO) {
            echo(f, srcIp, srcPort, payload, payloadLen);
        }
        if (workNanos > 0) {
            long until = cpu.counterNanos() + workNanos;
            while (cpu.counterNanos() - until < 0) {
                Thread.onSpinWait();
            }
        }
        if (resetAfter > 0 && frames == resetAfter) {
            resetDue = true;
        }
    }

    /** Whether the application asked for the NIC to be reset (once, after {@code reset-after} datagrams). */
    boolean takeResetRequest() {
        boolean r = resetDue;
        resetDue = false;
        return r;
    }

    /**
     * Whether a payload carries a plausible iperf2 header: long enough, and a {@code tv_usec} below one second
     * (netstack.c's {@code iperf_plausible}). Random bytes pass with a chance of 1 in 4,295 (10^6 / 2^32).
     */
    static boolean iperfPlausible(byte[] f, int payload, int payloadLen) {
        return payloadLen >= IPERF_HEADER
                && (GuestOs.be32(f, payload + IPERF_TV_USEC) & 0xFFFF_FFFFL) < USEC_PER_SEC;
    }

    /** iperf2 puts a signed 32-bit datagram id first; a negative id ends the test. */
    private void sequence(int srcIp, int srcPort, int id) {
        if (id < 0) {
            iperfFins++;
            return;
        }
        int f = -1;
        int victim = 0;
        for (int i = 0; i < MAX_FLOWS; i++) {
            if (flowUsed[i] && flowIp[i] == srcIp && flowPort[i] == srcPort) {
                f = i;
                break;
            }
            if (!flowUsed[i] || (flowUsed[victim] && flowLast[i] < flowLast[victim])) {
                victim = i;
            }
        }
        if (f < 0) {
            // A flow's first datagram sets the count going (iperf 2.0 numbers from 0, 2.1 from 1: a loss before the
            // first arrival cannot be told from a late start).
            flowUsed[victim] = true;
            flowIp[victim] = srcIp;
            flowPort[victim] = srcPort;
            flowNext[victim] = id + 1L;
            flowLast[victim] = frames;
            return;
        }
        flowLast[f] = frames;
        long expected = flowNext[f];
        if (id == expected) {
            flowNext[f] = expected + 1;
        } else if (id > expected) {
            lost += id - expected;
            flowNext[f] = id + 1L;
        } else {
            reordered++;
            if (lost > 0) {
                lost--;
            }
        }
    }

    private int udpChecksum(byte[] f, int ip, int u, int udpLen) {
        // Pseudo-header: source and destination addresses, zero, protocol, UDP length (RFC 768).
        int sum = GuestOs.onesComplementSum(f, ip + 12, 8, 0) + IPPROTO_UDP + udpLen;
        return GuestOs.onesComplementSum(f, u, udpLen, sum);
    }

    private void arp(byte[] f, int len) {
        int a = ETH_HLEN;
        if (len < a + 28 || GuestOs.be16(f, a) != 1 || GuestOs.be16(f, a + 2) != ETHERTYPE_IPV4) {
            bad++;
            return;
        }
        int op = GuestOs.be16(f, a + 6);
        int senderIp = GuestOs.be32(f, a + 14);
        int targetIp = GuestOs.be32(f, a + 24);
        other++;
        if (op == 2 && senderIp == gatewayIp) {
            System.arraycopy(f, a + 8, gatewayMac, 0, 6);
            gatewayKnown = true;
        } else if (op == 1 && targetIp == myIp) {
            // Answer who-has for our address.
            System.arraycopy(f, 6, out, 0, 6);
            System.arraycopy(nic.mac, 0, out, 6, 6);
            GuestOs.putBe16(out, 12, ETHERTYPE_ARP);
            System.arraycopy(f, a, out, a, 8);
            GuestOs.putBe16(out, a + 6, 2);
            System.arraycopy(nic.mac, 0, out, a + 8, 6);
            GuestOs.putBe32(out, a + 14, myIp);
            System.arraycopy(f, a + 8, out, a + 18, 10);
            if (!nic.transmit(out, a + 28)) {
                txDrops++;
            }
        }
    }

    private void echo(byte[] f, int dstIp, int dstPort, int payload, int payloadLen) {
        if (payloadLen > MAX_ECHO_PAYLOAD) {
            txDrops++;
            return;
        }
        System.arraycopy(gatewayKnown ? gatewayMac : f, gatewayKnown ? 0 : 6, out, 0, 6);
        System.arraycopy(nic.mac, 0, out, 6, 6);
        GuestOs.putBe16(out, 12, ETHERTYPE_IPV4);
        int ip = ETH_HLEN;
        int total = 20 + 8 + payloadLen;
        out[ip] = 0x45;
        out[ip + 1] = 0;
        GuestOs.putBe16(out, ip + 2, total);
        GuestOs.putBe16(out, ip + 4, (int) echoed);
        GuestOs.putBe16(out, ip + 6, 0x4000);   // don't fragment
        out[ip + 8] = 64;
        out[ip + 9] = IPPROTO_UDP;
        GuestOs.putBe16(out, ip + 10, 0);
        GuestOs.putBe32(out, ip + 12, myIp);
        GuestOs.putBe32(out, ip + 16, dstIp);
        GuestOs.putBe16(out, ip + 10, ~GuestOs.onesComplementSum(out, ip, 20, 0) & 0xFFFF);
        int u = ip + 20;
        GuestOs.putBe16(out, u, myPort);
        GuestOs.putBe16(out, u + 2, dstPort);
        GuestOs.putBe16(out, u + 4, 8 + payloadLen);
        GuestOs.putBe16(out, u + 6, 0);
        System.arraycopy(f, payload, out, u + 8, payloadLen);
        int sum = ~udpChecksum(out, ip, u, 8 + payloadLen) & 0xFFFF;
        GuestOs.putBe16(out, u + 6, sum == 0 ? 0xFFFF : sum);
        if (nic.transmit(out, ip + total)) {
            echoed++;
        } else {
            txDrops++;
        }
    }

    /** Writes the counters to the report page (release stores: the host reads them with acquire loads). */
    void publish() {
        store(GuestReport.Counter.FRAMES, frames);
        store(GuestReport.Counter.BYTES, bytes);
        store(GuestReport.Counter.LOST, lost);
        store(GuestReport.Counter.REORDERED, reordered);
        store(GuestReport.Counter.BAD, bad);
        store(GuestReport.Counter.CRC_SUM, crcSum);
        store(GuestReport.Counter.ECHOED, echoed);
        store(GuestReport.Counter.OTHER, other);
        store(GuestReport.Counter.TX_DROPS, txDrops);
        store(GuestReport.Counter.IPERF_FIN, iperfFins);
        store(GuestReport.Counter.RESETS, nic.resets());
        store(GuestReport.Counter.DISCARDED, nic.discarded());
        store(GuestReport.Counter.IPERF, iperfDatagrams);
        store(GuestReport.Counter.NOT_IPERF, nonIperf);
    }

    void countInterrupt(long irqs) {
        store(GuestReport.Counter.IRQS, irqs);
    }

    private void store(GuestReport.Counter c, long v) {
        ram.storeRelease64(GuestReport.nicCounter(index, c), v);
    }
}
