package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.apache.sshd.sftp.client.extensions.openssh.OpenSSHPosixRenameExtension;
import org.apache.sshd.sftp.client.impl.AbstractSftpClient;
import org.apache.sshd.sftp.client.impl.SftpInputStreamAsync;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A repository on an SSH server, over SFTP (Apache MINA SSHD). One SSH connection carries a small
 * pool of SFTP channels so the engine's parallel transfers run side by side. Objects are written
 * under a temporary name in the same directory and renamed on commit (posix-rename@openssh.com
 * where the server offers it, so a replace is atomic), like the filesystem driver.
 */
public final class SftpStorage implements Storage {
    private static final String TEMP_MARK = ".lifeboat-tmp-";
    private static final int READ_BUFFER = 64 * 1024;
    private static final Set<PosixFilePermission> TOO_OPEN = Set.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final SftpSettings settings;
    private final SshClient client;
    private final KeyPair key;
    private final SftpHostKeyPolicy policy;
    private final Retry retry;
    private final String base;
    private final LinkedBlockingDeque<SftpClient> idle = new LinkedBlockingDeque<>();
    private final AtomicInteger opened = new AtomicInteger();
    private volatile ClientSession session;

    /** Connects and logs in; a server that cannot be reached or refuses the login fails at once. */
    public SftpStorage(SftpSettings settings) {
        this.settings = settings;
        String b = settings.basePath().replaceAll("^/+|/+$", "");
        this.base = b.isEmpty() ? "." : "/" + b;
        this.key = settings.identityFile() == null ? null : loadIdentity(settings);
        if (key == null && settings.password() == null) {
            throw new LifeboatException(ErrorKind.CONFIG, "SFTP repository " + settings.describe() + " has no credentials",
                    "set identity-file (an OpenSSH private key) for the repository, or LIFEBOAT_SFTP_PASSWORD");
        }
        this.retry = new Retry(settings.timeouts().retry());
        policy = new SftpHostKeyPolicy(settings.hostKeyFingerprint(), settings.knownHosts());
        client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(policy);
        // A connection whose server stops answering (no reply to three keep-alive requests, about the read
        // timeout) is closed, and the operation reconnects and goes on; a quiet but healthy one is kept.
        Duration beat = settings.timeouts().read().dividedBy(3);
        CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, beat.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : beat);
        CoreModuleProperties.HEARTBEAT_NO_REPLY_MAX.set(client, 3);
        client.start();
        try {
            session = connect();
        } catch (IOException | RuntimeException e) {
            client.stop();
            if (policy.rejection() != null) {
                throw new LifeboatException(ErrorKind.STORAGE, "refused SFTP server " + settings.host() + ":" + settings.port()
                        + ": " + policy.rejection(), "if the server's key really changed, check with its administrator, then "
                        + "update known_hosts (ssh-keygen -lf) or host-key-fingerprint; otherwise someone may be intercepting "
                        + "the connection");
            }
            throw new LifeboatException(ErrorKind.STORAGE, "cannot log in to SFTP repository " + settings.describe() + ": "
                    + e.getMessage(), "check host, port, user and the identity file or LIFEBOAT_SFTP_PASSWORD", e);
        }
    }

    private ClientSession connect() throws IOException {
        Duration wait = settings.timeouts().connect();
        ClientSession s = client.connect(settings.user(), settings.host(), settings.port()).verify(wait).getSession();
        try {
            if (key != null) {
                s.addPublicKeyIdentity(key);
            }
            if (settings.password() != null) {
                s.addPasswordIdentity(settings.password());
            }
            s.auth().verify(wait);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close(true);
            throw e;
        }
    }

    /**
     * The SSH session, connected again if the connection broke (its channels went with it). A
     * failure to reconnect is transient: the operation retries it for the retry time.
     */
    private ClientSession session() throws TransientFailure {
        ClientSession s = session;
        if (s.isOpen() && !s.isClosing()) {
            return s;
        }
        synchronized (this) {
            if (session == s) {
                for (SftpClient c; (c = idle.pollFirst()) != null; ) {
                    opened.decrementAndGet();
                    closeQuietly(c);
                }
                try {
                    session = connect();
                } catch (IOException | RuntimeException e) {
                    if (policy.rejection() != null) {
                        throw new LifeboatException(ErrorKind.STORAGE, "refused SFTP server " + settings.host() + ":"
                                + settings.port() + " on reconnecting: " + policy.rejection(), "check with the server's "
                                + "administrator; someone may be intercepting the connection");
                    }
                    throw new TransientFailure("cannot reconnect to " + settings.describe() + ": " + e.getMessage(), e);
                }
            }
            return session;
        }
    }

    private static void closeQuietly(SftpClient c) {
        try {
            c.close();
        } catch (IOException | RuntimeException ignored) {
            // a broken channel is dropped
        }
    }

    private static KeyPair loadIdentity(SftpSettings s) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(s.identityFile());
            if (perms.stream().anyMatch(TOO_OPEN::contains)) {
                throw new LifeboatException(ErrorKind.CONFIG, "SSH identity file " + s.identityFile() + " is accessible by "
                        + "other users", "a private key must be readable by its owner only: chmod 600 " + s.identityFile());
            }
            try (InputStream in = Files.newInputStream(s.identityFile())) {
                Iterable<KeyPair> keys = SecurityUtils.loadKeyPairIdentities(null, () -> s.identityFile().toString(), in,
                        FilePasswordProvider.EMPTY);
                if (keys != null) {
                    for (KeyPair k : keys) {
                        return k;
                    }
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new LifeboatException(ErrorKind.CONFIG, "SSH identity file " + s.identityFile() + " does not exist",
                    "point identity-file at an OpenSSH private key");
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new LifeboatException(ErrorKind.CONFIG, "cannot read SSH identity file " + s.identityFile() + ": "
                    + e.getMessage(), "use an unencrypted OpenSSH or PEM private key (ssh-keygen -t ecdsa or rsa)", e);
        }
        throw new LifeboatException(ErrorKind.CONFIG, "SSH identity file " + s.identityFile() + " holds no private key",
                "point identity-file at an OpenSSH private key");
    }

    @Override
    public String describe() {
        return settings.describe();
    }

    private String path(String key) {
        return base + "/" + Keys.check(key);
    }

    private SftpClient acquire() throws IOException {
        SftpClient c = idle.pollFirst();
        if (c != null) {
            if (c.isOpen()) {
                return c;
            }
            opened.decrementAndGet(); // of a session that broke
            closeQuietly(c);
        }
        if (opened.incrementAndGet() <= Math.max(1, settings.channels())) {
            try {
                return SftpClientFactory.instance().createSftpClient(session());
            } catch (IOException | RuntimeException e) {
                opened.decrementAndGet();
                throw e;
            }
        }
        opened.decrementAndGet();
        try {
            return idle.takeFirst();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted waiting for an SFTP channel", null);
        }
    }

    private void release(SftpClient c, boolean healthy) {
        if (healthy && c.isOpen()) {
            idle.addFirst(c);
        } else {
            opened.decrementAndGet();
            closeQuietly(c);
        }
    }

    private interface Op<T> {
        T run(SftpClient c) throws IOException;
    }

    /** Runs {@code op} on a channel; a broken connection is reconnected and the operation retried. */
    private <T> T with(String what, Op<T> op) {
        try {
            return retry.run(() -> attempt(op), (e, a) -> new LifeboatException(ErrorKind.STORAGE, "cannot " + what
                    + " in " + describe() + " (" + a.summary() + "): " + ResumingInputStream.message(e),
                    "check that the SFTP server is reachable (the repository's retry-time says how long Lifeboat "
                            + "keeps trying)", e));
        } catch (IOException e) {
            throw failure(what, e);
        }
    }

    /** One attempt: the server's refusals are definitive, a broken channel or connection is transient. */
    private <T> T attempt(Op<T> op) throws IOException {
        SftpClient c;
        try {
            c = acquire();
        } catch (TransientFailure e) {
            throw e;
        } catch (IOException e) {
            throw new TransientFailure(e.getMessage(), e);
        }
        boolean ok = false;
        try {
            T t = op.run(c);
            ok = true;
            return t;
        } catch (SftpException e) {
            ok = true; // a refusal from the server leaves the channel usable
            throw e;
        } catch (TransientFailure e) {
            throw e;
        } catch (IOException e) {
            throw new TransientFailure(e.getMessage(), e);
        } catch (java.io.UncheckedIOException e) {
            throw new TransientFailure(e.getMessage(), e.getCause());
        } finally {
            release(c, ok);
        }
    }

    private LifeboatException failure(String what, IOException e) {
        if (e instanceof SftpException s && s.getStatus() == SftpConstants.SSH_FX_NO_SUCH_FILE) {
            return new LifeboatException(ErrorKind.NOT_FOUND, what + " in " + describe() + ": no such object", null, e);
        }
        return new LifeboatException(ErrorKind.STORAGE, "cannot " + what + " in " + describe() + ": " + e.getMessage(),
                "check that the SFTP server is reachable and the user may write under " + settings.basePath(), e);
    }

    private static boolean missing(IOException e) {
        return e instanceof SftpException s && s.getStatus() == SftpConstants.SSH_FX_NO_SUCH_FILE;
    }

    /**
     * An object the server says is not there is missing only while the repository's directory is
     * there: a vanished base directory (an unmounted disk on the server) is a STORAGE error.
     */
    private void provePresent(SftpClient c) throws IOException {
        if (!isDirectory(c, base)) {
            throw new LifeboatException(ErrorKind.STORAGE, "the repository directory " + base + " does not exist on "
                    + settings.host(), "create it on the SFTP server (is its filesystem mounted?)");
        }
    }

    /** Whether {@code dir} is a directory; false when the server says there is nothing by that name. */
    private static boolean isDirectory(SftpClient c, String dir) throws IOException {
        try {
            return c.stat(dir).isDirectory();
        } catch (IOException e) {
            if (!missing(e)) {
                throw e;
            }
            return false;
        }
    }

    private static void mkdirs(SftpClient c, String dir) throws IOException {
        if (dir.isEmpty() || dir.equals(".") || dir.equals("/") || isDirectory(c, dir)) {
            return;
        }
        int slash = dir.lastIndexOf('/');
        if (slash > 0) {
            mkdirs(c, dir.substring(0, slash));
        }
        try {
            c.mkdir(dir);
        } catch (SftpException e) {
            // another writer may have created it meanwhile
            if (!c.stat(dir).isDirectory()) {
                throw e;
            }
        }
    }

    @Override
    public ObjectWriter create(String key) throws IOException {
        String target = path(key);
        String dir = target.substring(0, target.lastIndexOf('/'));
        String temp = dir + "/" + TEMP_MARK + UUID.randomUUID();
        SftpClient c;
        try {
            c = retry.run(this::acquire, (e, a) -> failure("write " + key, e));
        } catch (IOException e) {
            throw failure("write " + key, e);
        }
        OutputStream out;
        try {
            mkdirs(c, dir);
            out = c.write(temp);
        } catch (IOException e) {
            release(c, e instanceof SftpException);
            throw failure("write " + key, e);
        }
        return new ObjectWriter() {
            private long size;
            private boolean done;

            @Override
            public void write(int b) throws IOException {
                out.write(b);
                size++;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                size += len;
            }

            @Override
            public long commit() throws IOException {
                if (done) {
                    throw new IllegalStateException("already committed or aborted");
                }
                done = true;
                boolean ok = false;
                try {
                    out.close();
                    OpenSSHPosixRenameExtension posix = c.getExtension(OpenSSHPosixRenameExtension.class);
                    if (posix != null && posix.isSupported()) {
                        posix.posixRename(temp, target);
                    } else {
                        try {
                            c.remove(target);
                        } catch (IOException e) {
                            if (!missing(e)) {
                                throw e;
                            }
                        }
                        c.rename(temp, target);
                    }
                    ok = true;
                    return size;
                } catch (IOException e) {
                    try {
                        c.remove(temp);
                    } catch (IOException ignored) {
                        // best effort; temp names are skipped by list()
                    }
                    throw failure("write " + key, e);
                } finally {
                    release(c, ok);
                }
            }

            @Override
            public void abort() {
                if (done) {
                    return;
                }
                done = true;
                try {
                    out.close();
                    c.remove(temp);
                    release(c, true);
                } catch (IOException | RuntimeException e) {
                    release(c, false);
                }
            }
        };
    }

    @Override
    public InputStream read(String key, long offset) throws IOException {
        String p = path(key);
        return new ResumingInputStream(key, describe(), offset, (from, version) -> open(key, p, from), retry);
    }

    /** One attempt to open the file from an offset; its channel is taken until the stream is closed. */
    private ResumingInputStream.Body open(String key, String p, long from) throws IOException {
        SftpClient c;
        try {
            c = acquire();
        } catch (TransientFailure e) {
            throw e;
        } catch (IOException e) {
            throw new TransientFailure(e.getMessage(), e);
        }
        boolean handedOver = false;
        boolean healthy = false;
        try {
            SftpClient.CloseableHandle h;
            try {
                h = c.open(p, SftpClient.OpenMode.Read);
            } catch (SftpException e) {
                healthy = true;
                if (missing(e)) {
                    provePresent(c);
                    throw new LifeboatException(ErrorKind.NOT_FOUND, "object '" + key + "' not found in " + describe(),
                            null, e);
                }
                throw failure("read " + key, e);
            }
            SftpClient.Attributes a = c.stat(h);
            InputStream in = new SftpInputStreamAsync((AbstractSftpClient) c, READ_BUFFER, from, a.getSize(), p, h, true);
            handedOver = true;
            AtomicBoolean released = new AtomicBoolean();
            InputStream body = new FilterInputStream(in) {
                @Override
                public void close() throws IOException {
                    if (released.compareAndSet(false, true)) {
                        try {
                            super.close();
                            release(c, true);
                        } catch (IOException | RuntimeException e) {
                            release(c, false);
                            throw e;
                        }
                    }
                }
            };
            return new ResumingInputStream.Body(body, from, a.getSize(), a.getSize() + "/" + a.getModifyTime(), () -> {
                if (released.compareAndSet(false, true)) {
                    release(c, false);
                }
            });
        } catch (LifeboatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new TransientFailure("cannot read " + key + ": " + e.getMessage(), e);
        } finally {
            if (!handedOver) {
                release(c, healthy);
            }
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String key) throws IOException {
        String p = path(key);
        return with("stat " + key, c -> {
            try {
                SftpClient.Attributes a = c.stat(p);
                return a.isRegularFile() ? Optional.of(info(key, a)) : Optional.empty();
            } catch (IOException e) {
                if (missing(e)) {
                    provePresent(c);
                    return Optional.empty();
                }
                throw e;
            }
        });
    }

    private static ObjectInfo info(String key, SftpClient.Attributes a) {
        Instant t = a.getModifyTime() == null ? Instant.EPOCH : a.getModifyTime().toInstant();
        return new ObjectInfo(key, a.getSize(), t);
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        int slash = prefix.lastIndexOf('/');
        String dirKey = slash < 0 ? "" : prefix.substring(0, slash);
        List<ObjectInfo> out = with("list " + prefix, c -> {
            List<ObjectInfo> found = new ArrayList<>(); // afresh on each attempt
            if (!walk(c, dirKey, prefix, found)) {
                provePresent(c);
            }
            return found;
        });
        out.sort(Comparator.comparing(ObjectInfo::key));
        return out;
    }

    /** @return false when the directory is not there (a subdirectory may vanish while it is walked) */
    private boolean walk(SftpClient c, String dirKey, String prefix, List<ObjectInfo> out) throws IOException {
        String dir = dirKey.isEmpty() ? base : base + "/" + dirKey;
        Iterable<SftpClient.DirEntry> entries;
        try {
            entries = c.readDir(dir);
            for (SftpClient.DirEntry e : entries) {
                String name = e.getFilename();
                if (name.equals(".") || name.equals("..") || name.startsWith(TEMP_MARK)) {
                    continue;
                }
                String key = dirKey.isEmpty() ? name : dirKey + "/" + name;
                SftpClient.Attributes a = e.getAttributes();
                if (a.isDirectory()) {
                    // descend only where keys with the prefix can be
                    if ((key + "/").startsWith(prefix) || prefix.startsWith(key + "/")) {
                        walk(c, key, prefix, out);
                    }
                } else if (a.isRegularFile() && key.startsWith(prefix)) {
                    out.add(info(key, a));
                }
            }
        } catch (IOException e) {
            if (!missing(e)) {
                throw e;
            }
            return false;
        } catch (java.io.UncheckedIOException e) {
            // readDir's iterable reads lazily and wraps what goes wrong
            if (!missing(e.getCause())) {
                throw e.getCause();
            }
            return false;
        }
        return true;
    }

    @Override
    public void delete(String key) throws IOException {
        String p = path(key);
        with("delete " + key, c -> {
            try {
                c.remove(p);
            } catch (IOException e) {
                if (!missing(e)) {
                    throw e;
                }
            }
            return null;
        });
    }

    @Override
    public void probe() throws IOException {
        with("use " + base, c -> {
            SftpClient.Attributes a;
            try {
                a = c.stat(base);
            } catch (IOException e) {
                if (missing(e)) {
                    throw new LifeboatException(ErrorKind.STORAGE, "the directory " + base + " does not exist on "
                            + settings.host(), "create it on the SFTP server (the user must be able to write in it)");
                }
                throw e;
            }
            if (!a.isDirectory()) {
                throw new LifeboatException(ErrorKind.STORAGE, base + " on " + settings.host() + " is not a directory",
                        "point the repository URI at a directory");
            }
            String probe = base + "/" + TEMP_MARK + "probe-" + UUID.randomUUID();
            try (OutputStream o = c.write(probe)) {
                o.write(1);
            }
            c.remove(probe);
            return null;
        });
    }

    @Override
    public void close() {
        SftpClient c;
        while ((c = idle.pollFirst()) != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        session.close(true);
        client.stop();
    }
}
