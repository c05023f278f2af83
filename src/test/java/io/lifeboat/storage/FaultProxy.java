package io.lifeboat.storage;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * An HTTP/1.1 proxy between an S3 client and a real S3 server that breaks chosen answers the way
 * networks and middleboxes do: it resets connections, stalls, cuts bodies short, answers 503
 * SlowDown, or answers an empty 200 in the server's place. Per request, by rule (the next N
 * requests that match) or at random with a fixed seed. Keep-alive aware; the Host header and
 * everything signed goes through unchanged, so SigV4 signatures stay valid (only Expect:
 * 100-continue, which is not signed, is answered here).
 */
public final class FaultProxy implements Closeable {
    public enum Fault {
        /** The connection is reset (RST) before any answer. */
        DROP,
        /** The connection is reset (RST) halfway through the body, or before any answer when there is none. */
        RESET,
        /** The answer stops halfway through its body (or its head) and the connection closes. */
        TRUNCATE,
        /** Halfway through the answer nothing more comes, for the stall time; then the connection closes. */
        STALL,
        /** 503 SlowDown, as S3 answers when it throttles. */
        SLOW_DOWN,
        /** 200 OK with an empty body, in the server's place. */
        EMPTY_200
    }

    /** A request as the proxy sees it. */
    public record Request(String method, String path, String query) {
        public boolean isList() {
            return method.equals("GET") && query.contains("list-type=2");
        }

        /** A GET of an object (not a listing, not the bucket). */
        public boolean isObjectGet() {
            return method.equals("GET") && !isList() && path.indexOf('/', 1) > 0;
        }

        public boolean isHead() {
            return method.equals("HEAD");
        }

        public boolean isWrite() {
            return method.equals("PUT") || method.equals("POST");
        }

        @Override
        public String toString() {
            return method + " " + path + (query.isEmpty() ? "" : "?" + query);
        }
    }

    private record Rule(Predicate<Request> which, Fault fault, AtomicInteger left) {
    }

    private final ServerSocket server;
    private final int targetPort;
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Map<Fault, AtomicInteger> injected = new EnumMap<>(Fault.class);
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger requests = new AtomicInteger();
    private volatile Random random;
    private volatile double rate;
    private volatile List<Fault> randomFaults = List.of();
    private volatile Predicate<Request> randomScope = r -> true;
    private volatile Duration stall = Duration.ofSeconds(5);
    private volatile boolean closed;

    private FaultProxy(ServerSocket server, int targetPort) {
        this.server = server;
        this.targetPort = targetPort;
        for (Fault f : Fault.values()) {
            injected.put(f, new AtomicInteger());
        }
    }

    /** A proxy on 127.0.0.1 for the server on 127.0.0.1:{@code targetPort}. */
    public static FaultProxy start(int targetPort) throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        FaultProxy p = new FaultProxy(s, targetPort);
        Thread t = new Thread(p::accept, "fault-proxy-accept");
        t.setDaemon(true);
        t.start();
        return p;
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    public int port() {
        return server.getLocalPort();
    }

    /** The next {@code times} requests that match get {@code fault} (rules are checked in the order added). */
    public FaultProxy rule(Predicate<Request> which, Fault fault, int times) {
        rules.add(new Rule(which, fault, new AtomicInteger(times)));
        return this;
    }

    /** Requests in {@code scope} that no rule matched get one of {@code faults} with probability {@code rate}. */
    public FaultProxy random(double rate, long seed, Predicate<Request> scope, Fault... faults) {
        this.random = new Random(seed);
        this.randomScope = scope;
        this.randomFaults = List.of(faults);
        this.rate = rate;
        return this;
    }

    /** How long a STALL holds the answer (make it longer than the client's read timeout). */
    public FaultProxy stallFor(Duration d) {
        this.stall = d;
        return this;
    }

    /** No more faults. */
    public void clear() {
        rules.clear();
        rate = 0;
    }

    /** No more faults, and nothing counted or logged so far. */
    public void reset() {
        clear();
        log.clear();
        injected.values().forEach(n -> n.set(0));
        requests.set(0);
    }

    public int injected(Fault f) {
        return injected.get(f).get();
    }

    public int injectedTotal() {
        return injected.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    public int requests() {
        return requests.get();
    }

    /** The faults injected so far, one line each ("TRUNCATE GET /bucket/key"). */
    public List<String> log() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    private Fault decide(Request r) {
        for (Rule rule : rules) {
            if (rule.which().test(r) && rule.left().getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                return rule.fault();
            }
        }
        Random rnd = random;
        if (rnd != null && rate > 0 && randomScope.test(r)) {
            synchronized (rnd) {
                if (rnd.nextDouble() < rate) {
                    return randomFaults.get(rnd.nextInt(randomFaults.size()));
                }
            }
        }
        return null;
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                Thread t = new Thread(() -> serve(client), "fault-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (!closed) {
                    log.add("accept failed: " + e);
                }
                return;
            }
        }
    }

    /** One client connection, with its own upstream connection, request after request. */
    private void serve(Socket client) {
        Socket upstream = null;
        try (client) {
            InputStream cin = client.getInputStream();
            OutputStream cout = client.getOutputStream();
            while (!closed) {
                Head req = Head.read(cin);
                if (req == null) {
                    return;
                }
                String[] line = req.first().split(" ", 3);
                String target = line[1];
                int q = target.indexOf('?');
                Request r = new Request(line[0], q < 0 ? target : target.substring(0, q), q < 0 ? "" : target.substring(q + 1));
                requests.incrementAndGet();
                if ("100-continue".equalsIgnoreCase(req.header("expect"))) {
                    cout.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    cout.flush();
                    req.remove("expect");
                }
                byte[] body = readBody(cin, req, false, r.method());
                Fault fault = decide(r);
                if (fault != null) {
                    injected.get(fault).incrementAndGet();
                    log.add(fault + " " + r);
                }
                if (fault == Fault.DROP) {
                    client.setSoLinger(true, 0);
                    return;
                }
                if (fault == Fault.SLOW_DOWN) {
                    byte[] xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please "
                            + "reduce your request rate.</Message><RequestId>faultproxy</RequestId></Error>")
                            .getBytes(StandardCharsets.UTF_8);
                    cout.write(("HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: " + xml.length
                            + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    cout.write(xml);
                    cout.flush();
                    continue;
                }
                if (fault == Fault.EMPTY_200) {
                    cout.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    cout.flush();
                    continue;
                }
                if (upstream == null || upstream.isClosed()) {
                    upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                    sockets.add(upstream);
                }
                OutputStream uout = upstream.getOutputStream();
                uout.write(req.bytes());
                uout.write(body);
                uout.flush();
                Head resp = Head.read(upstream.getInputStream());
                if (resp == null) {
                    return; // the server went away: so does the client's connection
                }
                byte[] respBody = readBody(upstream.getInputStream(), resp, true, r.method());
                byte[] head = resp.bytes();
                if (fault == null) {
                    cout.write(head);
                    cout.write(respBody);
                    cout.flush();
                    if ("close".equalsIgnoreCase(resp.header("connection")) || "close".equalsIgnoreCase(req.header("connection"))) {
                        return;
                    }
                    continue;
                }
                // RESET, TRUNCATE, STALL: half of the body, or half of the head when there is no body.
                if (respBody.length > 0) {
                    cout.write(head);
                    cout.write(respBody, 0, respBody.length / 2);
                } else if (fault != Fault.RESET) {
                    cout.write(head, 0, head.length / 2);
                }
                cout.flush();
                if (fault == Fault.STALL) {
                    sleep(stall);
                }
                if (fault == Fault.RESET) {
                    client.setSoLinger(true, 0);
                }
                return; // the client connection closes; the upstream one too (its answer was not passed on whole)
            }
        } catch (IOException e) {
            // the client or the server closed the connection
        } finally {
            if (upstream != null) {
                closeQuietly(upstream);
                sockets.remove(upstream);
            }
            sockets.remove(client);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** A message's body: by Content-Length, chunked (kept as it came), or (answers only) up to the end of the connection. */
    private static byte[] readBody(InputStream in, Head h, boolean response, String method) throws IOException {
        if (response) {
            int status = Integer.parseInt(h.first().split(" ", 3)[1]);
            if (method.equals("HEAD") || status == 204 || status == 304 || status / 100 == 1) {
                return new byte[0];
            }
        }
        String te = h.header("transfer-encoding");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = Head.lineOrEof(in);
                out.write((sizeLine + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                int size = Integer.parseInt(sizeLine.split(";", 2)[0].trim(), 16);
                if (size == 0) {
                    String trailer;
                    while (!(trailer = Head.lineOrEof(in)).isEmpty()) {
                        out.write((trailer + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    }
                    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    return out.toByteArray();
                }
                out.write(in.readNBytes(size + 2));
            }
        }
        String cl = h.header("content-length");
        if (cl != null) {
            int n = Integer.parseInt(cl.trim());
            byte[] b = in.readNBytes(n);
            if (b.length != n) {
                throw new SocketException("body ended early");
            }
            return b;
        }
        return response ? in.readAllBytes() : new byte[0];
    }

    /** A message head: the first line and the header lines, as they came (names keep their case). */
    private static final class Head {
        private final String first;
        private final List<String[]> headers;

        private Head(String first, List<String[]> headers) {
            this.first = first;
            this.headers = headers;
        }

        static Head read(InputStream in) throws IOException {
            String first;
            try {
                first = line(in);
            } catch (SocketException | java.io.EOFException e) {
                return null;
            }
            if (first == null) {
                return null;
            }
            List<String[]> headers = new ArrayList<>();
            String l;
            while (!(l = lineOrEof(in)).isEmpty()) {
                int colon = l.indexOf(':');
                headers.add(new String[] {l.substring(0, colon), l.substring(colon + 1).trim()});
            }
            return new Head(first, headers);
        }

        private static String lineOrEof(InputStream in) throws IOException {
            String l = line(in);
            if (l == null) {
                throw new java.io.EOFException("connection closed inside a message head");
            }
            return l;
        }

        /** One CRLF-terminated line; null at the end of the stream before any byte of it. */
        static String line(InputStream in) throws IOException {
            StringBuilder sb = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0) {
                if (c == '\n') {
                    int len = sb.length();
                    return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
                }
                sb.append((char) c);
            }
            if (sb.length() == 0) {
                return null;
            }
            throw new java.io.EOFException("connection closed inside a line");
        }

        String first() {
            return first;
        }

        String header(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return h[1];
                }
            }
            return null;
        }

        void remove(String name) {
            headers.removeIf(h -> h[0].equalsIgnoreCase(name));
        }

        byte[] bytes() {
            StringBuilder sb = new StringBuilder(first).append("\r\n");
            for (String[] h : headers) {
                sb.append(h[0]).append(": ").append(h[1]).append("\r\n");
            }
            return sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        }
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
            closeQuietly(s);
        }
    }
}
