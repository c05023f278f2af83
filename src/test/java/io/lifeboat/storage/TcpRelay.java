package io.lifeboat.storage;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay to a server on loopback that can reset its connections the way a network does: after
 * a given number of bytes from the server, a given number of times. For protocols (SSH) whose
 * answers a proxy cannot rewrite.
 */
final class TcpRelay implements Closeable {
    private final ServerSocket server;
    private final int targetPort;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger cutsLeft = new AtomicInteger();
    private final AtomicLong sinceArmed = new AtomicLong();
    private final AtomicInteger cuts = new AtomicInteger();
    private volatile long cutAfter;
    private volatile boolean stall;
    private volatile boolean closed;

    private TcpRelay(ServerSocket server, int targetPort) {
        this.server = server;
        this.targetPort = targetPort;
    }

    static TcpRelay start(int targetPort) throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        TcpRelay r = new TcpRelay(s, targetPort);
        Thread t = new Thread(r::accept, "tcp-relay-accept");
        t.setDaemon(true);
        t.start();
        return r;
    }

    int port() {
        return server.getLocalPort();
    }

    /**
     * From now on, each time {@code bytes} more bytes came from the server, the connection carrying
     * them is reset (both ways), {@code times} times.
     */
    void cutAfter(long bytes, int times) {
        stall = false;
        cutAfter = bytes;
        sinceArmed.set(0);
        cutsLeft.set(times);
    }

    /**
     * As {@link #cutAfter}, but the connection is not reset: it just carries nothing more from the
     * server (a stalled network), until the client gives up on it.
     */
    void stallAfter(long bytes, int times) {
        stall = true;
        cutAfter(bytes, times);
    }

    /** How many connections were reset. */
    int cuts() {
        return cuts.get();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(client);
                sockets.add(upstream);
                pump(client, upstream, false);
                pump(upstream, client, true);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean fromServer) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    if (fromServer && cutsLeft.get() > 0 && sinceArmed.addAndGet(n) >= cutAfter
                            && cutsLeft.getAndUpdate(c -> c > 0 ? c - 1 : 0) > 0) {
                        sinceArmed.set(0);
                        cuts.incrementAndGet();
                        if (stall) {
                            while (!to.isClosed() && !closed) {
                                Thread.sleep(50); // holds the server's bytes until the client closes the connection
                            }
                        }
                        reset(from);
                        reset(to);
                        return;
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed or was reset
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                close(from);
                close(to);
            }
        }, "tcp-relay-pump");
        t.setDaemon(true);
        t.start();
    }

    private void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // closing anyway
        }
        close(s);
    }

    private void close(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        sockets.remove(s);
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : sockets) {
            close(s);
        }
    }
}
