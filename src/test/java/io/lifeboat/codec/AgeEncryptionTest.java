package io.lifeboat.codec;

import com.exceptionfactory.jagged.x25519.X25519KeyPairGenerator;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.storage.MemoryStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgeEncryptionTest {
    @TempDir
    Path dir;

    private record Key(String recipient, Path identity) {
    }

    private Key key(String name) throws Exception {
        KeyPair p = new X25519KeyPairGenerator().generateKeyPair();
        Path f = dir.resolve(name);
        Files.writeString(f, "# test key\n" + p.getPrivate() + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return new Key(p.getPublic().toString(), f);
    }

    private static byte[] data() {
        byte[] b = new byte[1_000_000];
        new Random(3).nextBytes(b);
        return b;
    }

    @Test
    void roundTripThroughThePipelineHidesTheContent() throws Exception {
        Key k = key("id.txt");
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline writeOnly = new ObjectPipeline(st, Compression.ZSTD, 3, new AgeEncryption(List.of(k.recipient()), null));
        byte[] raw = "secret rows of a table, repeated. ".repeat(10_000).getBytes(StandardCharsets.UTF_8);
        String key = writeOnly.storedName("b/obj");
        assertThat(key).isEqualTo("b/obj.zst.age");
        StoredObject o = writeOnly.store(key, "obj.zst.age", new ByteArrayInputStream(raw), 0);
        assertThat(o.encryption()).isEqualTo("age");
        byte[] stored = st.get(key);
        assertThat(new String(stored, 0, 21, StandardCharsets.US_ASCII)).isEqualTo("age-encryption.org/v1");
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain("secret rows");

        // the database host holds only the recipient: it cannot read back what it wrote
        assertThatThrownBy(() -> writeOnly.fetch(key, o, new ByteArrayOutputStream()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.KEY);
                    assertThat(e.getMessage()).contains("no identity is configured");
                });
        ObjectPipeline reader = new ObjectPipeline(st, Compression.ZSTD, 3, new AgeEncryption(List.of(), k.identity()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        reader.fetch(key, o, out);
        assertThat(out.toByteArray()).isEqualTo(raw);
    }

    @Test
    void wrongIdentityIsAKeyErrorNotCorruption() throws Exception {
        Key right = key("right.txt");
        Key wrong = key("wrong.txt");
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline w = new ObjectPipeline(st, Compression.LZ4, 1, new AgeEncryption(List.of(right.recipient()), null));
        StoredObject o = w.store("o.lz4.age", "o.lz4.age", new ByteArrayInputStream(data()), 0);
        ObjectPipeline r = new ObjectPipeline(st, Compression.LZ4, 1, new AgeEncryption(List.of(), wrong.identity()));
        assertThatThrownBy(() -> r.fetch("o.lz4.age", o, new ByteArrayOutputStream()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.KEY);
                    assertThat(e.getMessage()).contains(wrong.identity().toString(), "cannot decrypt");
                });
    }

    @Test
    void severalRecipientsEachCanRead() throws Exception {
        Key a = key("a.txt");
        Key b = key("b.txt");
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline w = new ObjectPipeline(st, Compression.NONE, 0, new AgeEncryption(List.of(a.recipient(), b.recipient()), null));
        byte[] raw = data();
        StoredObject o = w.store("o.age", "o.age", new ByteArrayInputStream(raw), 0);
        for (Key k : List.of(a, b)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new ObjectPipeline(st, Compression.NONE, 0, new AgeEncryption(List.of(), k.identity())).fetch("o.age", o, out);
            assertThat(out.toByteArray()).isEqualTo(raw);
        }
    }

    @Test
    void tamperedCiphertextIsCorruptionNamingTheObject() throws Exception {
        Key k = key("id.txt");
        MemoryStorage st = new MemoryStorage();
        AgeEncryption age = new AgeEncryption(List.of(k.recipient()), k.identity());
        ObjectPipeline p = new ObjectPipeline(st, Compression.NONE, 0, age);
        StoredObject o = p.store("x/o.age", "o.age", new ByteArrayInputStream(data()), 0);
        byte[] bytes = st.get("x/o.age");
        bytes[bytes.length / 2] ^= 1;
        st.put("x/o.age", bytes);
        assertThatThrownBy(() -> p.fetch("x/o.age", o, new ByteArrayOutputStream()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT);
                    assertThat(e.getMessage()).contains("x/o.age");
                });
    }

    @Test
    void identityFileProblemsAreRefusedWithoutEchoingTheKey() throws Exception {
        Key k = key("id.txt");
        Files.setPosixFilePermissions(k.identity(), PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> AgeEncryption.loadIdentities(k.identity()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.KEY);
                    assertThat(e.getMessage()).contains("accessible by other users");
                    assertThat(e.hint()).contains("chmod 600");
                });
        Path typo = dir.resolve("typo.txt");
        Files.writeString(typo, "AGE-SECRET-KEY-1NOTREALLYAKEY\n");
        Files.setPosixFilePermissions(typo, PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> AgeEncryption.loadIdentities(typo))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.getMessage()).contains("line 1").doesNotContain("NOTREALLYAKEY");
                });
        assertThatThrownBy(() -> AgeEncryption.loadIdentities(dir.resolve("absent.txt")))
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> new AgeEncryption(List.of("age1bogus"), null))
                .hasMessageContaining("not an age recipient");
    }

    @Test
    void objectsWrittenBeforeEncryptionStayReadable() throws Exception {
        Key k = key("id.txt");
        MemoryStorage st = new MemoryStorage();
        StoredObject plain = new ObjectPipeline(st, Compression.ZSTD, 3, Encryption.NONE)
                .store("old.zst", "old.zst", new ByteArrayInputStream(new byte[]{1, 2, 3}), 0);
        ObjectPipeline now = new ObjectPipeline(st, Compression.ZSTD, 3, new AgeEncryption(List.of(k.recipient()), null));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        now.fetch("old.zst", plain, out);
        assertThat(out.toByteArray()).containsExactly(1, 2, 3);
    }
}
