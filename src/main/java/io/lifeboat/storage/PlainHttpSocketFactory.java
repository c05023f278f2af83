package io.lifeboat.storage;

import org.apache.http.HttpHost;
import org.apache.http.conn.socket.LayeredConnectionSocketFactory;
import org.apache.http.conn.ssl.SSLConnectionSocketFactory;
import org.apache.http.protocol.HttpContext;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * The TLS socket factory for a client whose endpoint is plain http. The HTTP client wants one at
 * construction, and its default builds the JDK's SSL context there (parsing every CA certificate
 * and cipher suite): about 75 ms of CPU on every start, before the first request can go out, for
 * connections that never use TLS. This one builds the system default only if TLS is ever asked for.
 */
final class PlainHttpSocketFactory implements LayeredConnectionSocketFactory {
    private volatile SSLConnectionSocketFactory tls;

    private SSLConnectionSocketFactory tls() {
        SSLConnectionSocketFactory t = tls;
        if (t == null) {
            synchronized (this) {
                t = tls;
                if (t == null) {
                    t = SSLConnectionSocketFactory.getSystemSocketFactory();
                    tls = t;
                }
            }
        }
        return t;
    }

    @Override
    public Socket createSocket(HttpContext context) throws IOException {
        return tls().createSocket(context);
    }

    @Override
    public Socket connectSocket(int connectTimeout, Socket sock, HttpHost host, InetSocketAddress remoteAddress,
                                InetSocketAddress localAddress, HttpContext context) throws IOException {
        return tls().connectSocket(connectTimeout, sock, host, remoteAddress, localAddress, context);
    }

    @Override
    public Socket createLayeredSocket(Socket socket, String target, int port, HttpContext context) throws IOException {
        return tls().createLayeredSocket(socket, target, port, context);
    }
}
