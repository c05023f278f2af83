package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.apache.sshd.sftp.client.extensions.openssh.OpenSSHPosixRenameExtension;
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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A repository on an SSH server, over SFTP (Apache MINA SSHD). One SSH connection carries a small
 * pool of SFTP channels so the engine's parallel transfers run side by side. Objects are written
 * under a temporary name in the same directory and renamed on commit (posix-rename@openssh.com
 * where the server offers it, so a replace is atomic), like the filesystem driver.
 */
public final class SftpStorage implements Storage {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String TEMP_MARK = ".lifeboat-tmp-";
    private static final Set<PosixFilePermission> TOO_OPEN = Set.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final SftpSettings settings;
    private final SshClient client;
    private final ClientSession session;
    private final String base;
    private final LinkedBlockingDeque<SftpClient> idle = new LinkedBlockingDeque<>();
    private final AtomicInteger opened = new AtomicInteger();

    public SftpStorage(SftpSettings settings) {
        this.settings = settings;
        String b = settings.basePath().replaceAll("^/+|/+$", "");
        this.base = b.isEmpty() ? "." : "/" + b;
        KeyPair key = settings.identityFile() == null ? null : loadIdentity(settings);
        if (key == null && settings.password() == null) {
            throw new LifeboatException(ErrorKind.CONFIG, "SFTP repository " + settings.describe() + " has no credentials",
                    "set identity-file (an OpenSSH private key) for the repository, or LIFEBOAT_SFTP_PASSWORD");
        }
        SftpHostKeyPolicy policy = new SftpHostKeyPolicy(settings.hostKeyFingerprint(), settings.knownHosts());
        client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(policy);
        client.start();
        try {
            session = client.connect(settings.user(), settings.host(), settings.port()).verify(TIMEOUT).getSession();
            if (key != null) {
                session.addPublicKeyIdentity(key);
            }
            if (settings.password() != null) {
                session.addPasswordIdentity(settings.password());
            }
            session.auth().verify(TIMEOUT);
        } catch (IOException | RuntimeException e) {
            client.stop();
            if (policy.rejection() != null) {
                throw new LifeboatException(ErrorKind.STORAGE, "refused SFTP server " + settings.host() + ":" + settings.port()
                        + ": " + policy.rejection(), "if the server's key really changed, check with its administrator, then "
                        + "update known_hosts (ssh-keyscan) or host-key-fingerprint; otherwise someone may be intercepting "
                        + "the connection");
            }
            throw new LifeboatException(ErrorKind.STORAGE, "cannot log in to SFTP repository " + settings.describe() + ": "
                    + e.getMessage(), "check host, port, user and the identity file or LIFEBOAT_SFTP_PASSWORD", e);
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
            return c;
        }
        if (opened.incrementAndGet() <= Math.max(1, settings.channels())) {
            try {
                return SftpClientFactory.instance().createSftpClient(session);
            } catch (IOException e) {
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
            try {
                c.close();
            } catch (IOException ignored) {
                // a broken channel is dropped
            }
        }
    }

    private interface Op<T> {
        T run(SftpClient c) throws IOException;
    }

    private <T> T with(String what, Op<T> op) {
        SftpClient c;
        try {
            c = acquire();
        } catch (IOException e) {
            throw failure(what, e);
        }
        boolean ok = false;
        try {
            T t = op.run(c);
            ok = true;
            return t;
        } catch (SftpException e) {
            ok = true; // a refusal from the server leaves the channel usable
            throw failure(what, e);
        } catch (IOException e) {
            throw failure(what, e);
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

    private static void mkdirs(SftpClient c, String dir) throws IOException {
        if (dir.isEmpty() || dir.equals(".") || dir.equals("/")) {
            return;
        }
        try {
            if (c.stat(dir).isDirectory()) {
                return;
            }
        } catch (IOException e) {
            if (!missing(e)) {
                throw e;
            }
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
            c = acquire();
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
    public InputStream read(String key) throws IOException {
        String p = path(key);
        SftpClient c;
        try {
            c = acquire();
        } catch (IOException e) {
            throw failure("read " + key, e);
        }
        try {
            InputStream in = c.read(p);
            return new FilterInputStream(in) {
                private boolean closed;

                @Override
                public void close() throws IOException {
                    if (!closed) {
                        closed = true;
                        try {
                            super.close();
                            release(c, true);
                        } catch (IOException e) {
                            release(c, false);
                            throw e;
                        }
                    }
                }
            };
        } catch (IOException e) {
            release(c, e instanceof SftpException);
            throw failure("read " + key, e);
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
        List<ObjectInfo> out = new ArrayList<>();
        with("list " + prefix, c -> {
            walk(c, dirKey, prefix, out);
            return null;
        });
        out.sort(Comparator.comparing(ObjectInfo::key));
        return out;
    }

    private void walk(SftpClient c, String dirKey, String prefix, List<ObjectInfo> out) throws IOException {
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
        } catch (java.io.UncheckedIOException e) {
            // readDir's iterable reads lazily and wraps what goes wrong
            if (!missing(e.getCause())) {
                throw e.getCause();
            }
        }
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
        try {
            session.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        client.stop();
    }
}
