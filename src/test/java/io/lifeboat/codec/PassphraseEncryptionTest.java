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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PassphraseEncryptionTest {
    /** Tests write with the cheapest factor the writer allows; the vectors test covers reading others. */
    static final int FAST = AgeScrypt.MIN_WORK_FACTOR;
    private static final Pattern STANZA = Pattern.compile("-> scrypt ([A-Za-z0-9+/]{22}) (\\d+)\n");

    @TempDir
    Path dir;

    private Path passphraseFile(String name, String content, String mode) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    private static byte[] data() {
        byte[] b = new byte[300_000];
        new Random(7).nextBytes(b);
        return b;
    }

    @Test
    void roundTripWithAFreshSaltPerObjectAndTheSchemeInTheManifest() throws Exception {
        Path pf = passphraseFile("pass", "correct horse battery staple\n", "rw-------");
        MemoryStorage st = new MemoryStorage();
        AgeEncryption age = new AgeEncryption(List.of(), null, Passphrase.ofFile(pf), FAST);
        ObjectPipeline p = new ObjectPipeline(st, Compression.ZSTD, 3, age);
        byte[] raw = "secret rows of a table, repeated. ".repeat(10_000).getBytes(StandardCharsets.UTF_8);
        String k1 = p.storedName("b/one");
        assertThat(k1).isEqualTo("b/one.zst.age");
        StoredObject o1 = p.store(k1, "one.zst.age", new ByteArrayInputStream(raw), 0);
        StoredObject o2 = p.store("b/two.zst.age", "two.zst.age", new ByteArrayInputStream(raw), 0);
        assertThat(o1.encryption()).isEqualTo("age-scrypt");
        assertThat(ObjectPipeline.rawName(o1)).isEqualTo("one");

        String h1 = new String(st.get(k1), StandardCharsets.ISO_8859_1);
        String h2 = new String(st.get("b/two.zst.age"), StandardCharsets.ISO_8859_1);
        assertThat(h1).startsWith("age-encryption.org/v1\n-> scrypt ").doesNotContain("secret rows")
                .doesNotContain("correct horse");
        Matcher m1 = STANZA.matcher(h1);
        Matcher m2 = STANZA.matcher(h2);
        assertThat(m1.find()).isTrue();
        assertThat(m2.find()).isTrue();
        assertThat(m1.group(2)).isEqualTo(Integer.toString(FAST));
        // every object has its own salt, so the zero-nonce wrap never reuses a key
        assertThat(m1.group(1)).isNotEqualTo(m2.group(1));
        assertThat(h1.split("\n-> ")).hasSize(2); // the scrypt stanza is the only one

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AgeEncryption reader = new AgeEncryption(List.of(), null, Passphrase.ofEnvironment("correct horse battery staple"), 16);
        ObjectPipeline r = new ObjectPipeline(st, Compression.ZSTD, 3, reader);
        r.fetch(k1, o1, out);
        assertThat(out.toByteArray()).isEqualTo(raw);
        // the same object again (a restore proves the key on its smallest object first): no new derivation
        r.fetch(k1, o1, new ByteArrayOutputStream());
        assertThat(reader.scryptDerivations()).isEqualTo(1);
        r.fetch("b/two.zst.age", o2, new ByteArrayOutputStream());
        assertThat(reader.scryptDerivations()).isEqualTo(2);
    }

    @Test
    void wrongPassphraseIsAKeyErrorNamingTheSourceNotTheSecret() throws Exception {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline w = new ObjectPipeline(st, Compression.LZ4, 1,
                new AgeEncryption(List.of(), null, Passphrase.ofEnvironment("right one"), FAST));
        StoredObject o = w.store("o.lz4.age", "o.lz4.age", new ByteArrayInputStream(data()), 0);
        Path wrong = passphraseFile("wrong", "wrong one", "r--------");
        ObjectPipeline r = new ObjectPipeline(st, Compression.LZ4, 1,
                new AgeEncryption(List.of(), null, Passphrase.ofFile(wrong), 16));
        assertThatThrownBy(() -> r.fetch("o.lz4.age", o, new ByteArrayOutputStream()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.KEY);
                    assertThat(e.getMessage()).contains("passphrase file " + wrong, "cannot decrypt")
                            .doesNotContain("wrong one").doesNotContain("right one");
                });
    }

    @Test
    void oneHostReadsKeyPairAndPassphraseObjectsAndSaysWhichKeyIsMissing() throws Exception {
        KeyPair kp = new X25519KeyPairGenerator().generateKeyPair();
        Path id = passphraseFile("id.txt", kp.getPrivate() + "\n", "rw-------");
        MemoryStorage st = new MemoryStorage();
        StoredObject byKey = new ObjectPipeline(st, Compression.NONE, 0, new AgeEncryption(List.of(kp.getPublic().toString()), null))
                .store("k.age", "k.age", new ByteArrayInputStream(new byte[]{1, 2, 3}), 0);
        StoredObject byPass = new ObjectPipeline(st, Compression.NONE, 0,
                new AgeEncryption(List.of(), null, Passphrase.ofEnvironment("pw"), FAST))
                .store("p.age", "p.age", new ByteArrayInputStream(new byte[]{4, 5, 6}), 0);
        assertThat(byKey.encryption()).isEqualTo("age");
        assertThat(byPass.encryption()).isEqualTo("age-scrypt");

        ObjectPipeline both = new ObjectPipeline(st, Compression.NONE, 0,
                new AgeEncryption(List.of(), id, Passphrase.ofEnvironment("pw"), 16));
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        both.fetch("k.age", byKey, a);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        both.fetch("p.age", byPass, b);
        assertThat(a.toByteArray()).containsExactly(1, 2, 3);
        assertThat(b.toByteArray()).containsExactly(4, 5, 6);

        // identity only: the passphrase object says a passphrase is missing
        ObjectPipeline keyOnly = new ObjectPipeline(st, Compression.NONE, 0, new AgeEncryption(List.of(), id));
        assertThatThrownBy(() -> keyOnly.fetch("p.age", byPass, new ByteArrayOutputStream()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.KEY);
                    assertThat(e.getMessage()).contains("passphrase", "no passphrase is configured");
                    assertThat(e.hint()).contains("LIFEBOAT_PASSPHRASE");
                });
        // passphrase only: the key-pair object says an identity is missing
        ObjectPipeline passOnly = new ObjectPipeline(st, Compression.NONE, 0,
                new AgeEncryption(List.of(), null, Passphrase.ofEnvironment("pw"), 16));
        assertThatThrownBy(() -> passOnly.fetch("k.age", byKey, new ByteArrayOutputStream()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.KEY);
                    assertThat(e.getMessage()).contains("no identity is configured");
                });
        // no encryption configured at all
        ObjectPipeline none = new ObjectPipeline(st, Compression.NONE, 0, Encryption.NONE);
        assertThatThrownBy(() -> none.fetch("p.age", byPass, new ByteArrayOutputStream()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.KEY);
                    assertThat(e.getMessage()).contains("passphrase (age-scrypt)");
                });
    }

    @Test
    void passphraseFileIsCheckedLikeAnIdentityFile() throws Exception {
        Path open = passphraseFile("open", "pw\n", "rw-r--r--");
        assertThatThrownBy(() -> Passphrase.ofFile(open).bytes())
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.KEY);
                    assertThat(e.getMessage()).contains("passphrase file " + open, "accessible by other users");
                    assertThat(e.hint()).contains("chmod 600");
                });
        Path groupWritable = passphraseFile("gw", "pw\n", "rw--w----");
        assertThatThrownBy(() -> Passphrase.ofFile(groupWritable).bytes()).hasMessageContaining("accessible by other users");
        assertThatThrownBy(() -> Passphrase.ofFile(dir.resolve("absent")).bytes())
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.KEY);
                    assertThat(e.getMessage()).contains("does not exist");
                });
        Path empty = passphraseFile("empty", "\n", "rw-------");
        assertThatThrownBy(() -> Passphrase.ofFile(empty).bytes()).hasMessageContaining("empty passphrase");
        Path twoLines = passphraseFile("two", "first secret\nsecond\n", "rw-------");
        assertThatThrownBy(() -> Passphrase.ofFile(twoLines).bytes())
                .hasMessageContaining("more than one line").hasMessageNotContaining("first secret");
        // one final line break (LF or CRLF) is not part of the passphrase; other white space is
        assertThat(Passphrase.ofFile(passphraseFile("lf", " pw \n", "rw-------")).bytes()).isEqualTo(" pw ".getBytes());
        assertThat(Passphrase.ofFile(passphraseFile("crlf", "pw\r\n", "rw-------")).bytes()).isEqualTo("pw".getBytes());
        assertThat(Passphrase.ofFile(passphraseFile("none", "pw", "r--------")).bytes()).isEqualTo("pw".getBytes());
        assertThat(Passphrase.ofEnvironment("hunter2").toString()).doesNotContain("hunter2");
        // the file is only read when something is encrypted, and a problem stops the write as a KEY error
        AgeEncryption age = new AgeEncryption(List.of(), null, Passphrase.ofFile(open), FAST);
        assertThatThrownBy(() -> new ObjectPipeline(new MemoryStorage(), Compression.NONE, 0, age)
                .store("x.age", "x.age", new ByteArrayInputStream(new byte[10]), 0))
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.KEY));
    }

    @Test
    void tamperedScryptObjectsAreCorruptNotAWrongPassphrase() throws Exception {
        MemoryStorage st = new MemoryStorage();
        AgeEncryption age = new AgeEncryption(List.of(), null, Passphrase.ofEnvironment("pw"), FAST);
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
}
