package dev.jvmm.net.backend;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.unix.Socket;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Sends an empty UDP datagram (UDP length 8, which RFC 768 allows and Linux sends) through the socket of an
 * {@link EpollDatagramChannel}, whose own write path skips empty buffers: {@code doWriteMessage} reports them written
 * without a syscall, and its {@code sendmmsg} batch leaves them out of the array yet removes as many messages as were
 * sent from the head of the outbound buffer.
 *
 * <p>{@code sendto} of zero bytes returns 0 whether it sent the datagram or would block, and Netty's
 * {@code Socket.sendTo} turns EAGAIN into 0 as well, so the result alone cannot say. The socket's memory can:
 * Linux's {@code sock_alloc_send_pskb} fails with EAGAIN exactly when {@code sk_wmem_alloc_get(sk) >= sk_sndbuf},
 * and {@code getsockopt(SOL_SOCKET, SO_MEMINFO)} reports both ({@code SK_MEMINFO_WMEM_ALLOC},
 * {@code SK_MEMINFO_SNDBUF}). Only the NIC's event loop sends on the socket and the kernel only frees send memory,
 * so room seen before the send is room at the send.
 *
 * <p>One per backend, used on its event loop only; allocates nothing per datagram.
 */
final class EpollEmptyDatagram {
    /** {@code <asm-generic/socket.h>}. */
    private static final int SOL_SOCKET = 1;
    private static final int SO_MEMINFO = 55;
    /** {@code <linux/sock_diag.h>}: u32 indices into the SO_MEMINFO array. */
    private static final int SK_MEMINFO_WMEM_ALLOC = 2;
    private static final int SK_MEMINFO_SNDBUF = 3;
    private static final int MEMINFO_WORDS = SK_MEMINFO_SNDBUF + 1;

    private final ByteBuffer meminfo = ByteBuffer.allocateDirect(4 * MEMINFO_WORDS).order(ByteOrder.nativeOrder());
    private final ByteBuffer empty = ByteBuffer.allocateDirect(0);

    /** Whether {@code ch} is Netty's epoll datagram channel, whose write path skips empty datagrams. */
    static boolean isEpoll(Channel ch) {
        return ch instanceof EpollDatagramChannel;
    }

    /**
     * Sends an empty datagram to {@code to} when the socket's send buffer has room: true when sent, false when the
     * kernel would refuse it now (try again once the socket has drained). Throws the socket's error.
     */
    boolean trySend(Channel ch, InetSocketAddress to) throws IOException {
        Socket socket = (Socket) ((EpollDatagramChannel) ch).fd();
        meminfo.clear();
        socket.getRawOpt(SOL_SOCKET, SO_MEMINFO, meminfo);
        long queued = meminfo.getInt(4 * SK_MEMINFO_WMEM_ALLOC) & 0xFFFF_FFFFL;
        long sndbuf = meminfo.getInt(4 * SK_MEMINFO_SNDBUF) & 0xFFFF_FFFFL;
        if (queued >= sndbuf) {
            return false;
        }
        empty.clear();
        socket.sendTo(empty, 0, 0, to.getAddress(), to.getPort());
        return true;
    }
}
