package io.lifeboat.codec;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The official age scrypt test vectors (C2SP CCTV, src/test/resources/age-testkit/README.md): files
 * written by the reference implementation decrypt, and every malformed or wrong-key variant is
 * refused as what it is. "no match" (wrong passphrase) is a KEY error, "header failure" (mixed
 * stanzas, bad base64, work factor 2^23, ...) is CORRUPT.
 */
class AgeScryptVectorsTest {
    static final List<String> NAMES = List.of("scrypt", "scrypt_and_x25519", "scrypt_bad_tag", "scrypt_double",
            "scrypt_extra_argument", "scrypt_long_file_key", "scrypt_no_match", "scrypt_not_canonical_body",
            "scrypt_not_canonical_salt", "scrypt_salt_long", "scrypt_salt_missing", "scrypt_salt_short",
            "scrypt_uppercase", "scrypt_work_factor_23", "scrypt_work_factor_hex", "scrypt_work_factor_leading_garbage",
            "scrypt_work_factor_leading_plus", "scrypt_work_factor_leading_zero_decimal",
            "scrypt_work_factor_leading_zero_octal", "scrypt_work_factor_missing", "scrypt_work_factor_negative",
            "scrypt_work_factor_overflow", "scrypt_work_factor_trailing_garbage", "scrypt_work_factor_wrong",
            "scrypt_work_factor_zero");

    @TempDir
    Path dir;

    record Vector(String name, Map<String, List<String>> header, byte[] age) {
        String one(String key) {
            List<String> v = header.get(key);
            return v == null ? null : v.get(0);
        }

        List<String> all(String key) {
            return header.getOrDefault(key, List.of());
        }
    }

    static Vector load(String name) throws Exception {
        byte[] all;
        try (InputStream in = AgeScryptVectorsTest.class.getResourceAsStream("/age-testkit/" + name)) {
            assertThat(in).as(name).isNotNull();
            all = in.readAllBytes();
        }
        Map<String, List<String>> header = new java.util.LinkedHashMap<>();
        int pos = 0;
        while (true) {
            int nl = indexOf(all, (byte) '\n', pos);
            String line = new String(all, pos, nl - pos, StandardCharsets.UTF_8);
            pos = nl + 1;
            if (line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(": ");
            header.computeIfAbsent(line.substring(0, colon), k -> new ArrayList<>()).add(line.substring(colon + 2));
        }
        return new Vector(name, header, Arrays.copyOfRange(all, pos, all.length));
    }

    private static int indexOf(byte[] b, byte x, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == x) {
                return i;
            }
        }
        throw new IllegalArgumentException("no line break");
    }

    @TestFactory
    Stream<DynamicTest> officialScryptVectors() {
        return NAMES.stream().map(n -> DynamicTest.dynamicTest(n, () -> check(load(n))));
    }

    private void check(Vector v) throws Exception {
        assertThat(v.one("compressed")).as("compressed vectors are not used").isNull();
        Path identity = null;
        if (v.one("identity") != null) {
            identity = dir.resolve(v.name() + ".key");
            Files.writeString(identity, String.join("\n", v.all("identity")) + "\n");
            Files.setPosixFilePermissions(identity, PosixFilePermissions.fromString("rw-------"));
        }
        List<String> passphrases = v.all("passphrase");
        assertThat(passphrases).isNotEmpty();
        for (String pass : passphrases) {
            AgeEncryption age = new AgeEncryption(List.of(), identity, Passphrase.ofEnvironment(pass),
                    AgeScrypt.DEFAULT_WORK_FACTOR);
            String expect = v.one("expect");
            switch (expect) {
                case "success" -> {
                    byte[] plain;
                    try (InputStream in = age.decrypt(new ByteArrayInputStream(v.age()))) {
                        plain = in.readAllBytes();
                    }
                    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(plain));
                    assertThat(sha).as(v.name()).isEqualTo(v.one("payload"));
                }
                case "no match" -> assertThatThrownBy(() -> age.decrypt(new ByteArrayInputStream(v.age())).readAllBytes())
                        .as(v.name()).isInstanceOfSatisfying(LifeboatException.class,
                                e -> assertThat(e.kind()).as(e.getMessage()).isEqualTo(ErrorKind.KEY));
                case "header failure" -> assertThatThrownBy(() -> age.decrypt(new ByteArrayInputStream(v.age())).readAllBytes())
                        .as(v.name()).isInstanceOfSatisfying(LifeboatException.class,
                                e -> assertThat(e.kind()).as(e.getMessage()).isEqualTo(ErrorKind.CORRUPT));
                default -> throw new AssertionError(v.name() + ": unexpected expectation " + expect);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void theNegativeVectorsFailForTheRightReason() throws Exception {
        Map<String, String> why = Map.of(
                "scrypt_no_match", "cannot decrypt",
                "scrypt_work_factor_23", "2^23 is above the limit 2^22",
                "scrypt_and_x25519", "only stanza",
                "scrypt_double", "only stanza",
                "scrypt_not_canonical_salt", "not canonical",
                "scrypt_salt_short", "salt has",
                "scrypt_work_factor_leading_zero_decimal", "leading zeros",
                "scrypt_extra_argument", "arguments");
        for (var e : why.entrySet()) {
            Vector v = load(e.getKey());
            AgeEncryption age = new AgeEncryption(List.of(), null, Passphrase.ofEnvironment(v.one("passphrase")), 16);
            assertThatThrownBy(() -> age.decrypt(new ByteArrayInputStream(v.age())))
                    .as(v.name()).hasMessageContaining(e.getValue());
        }
        // the wrong-passphrase message names where the passphrase came from, never the passphrase
        Vector v = load("scrypt_no_match");
        AgeEncryption age = new AgeEncryption(List.of(), null, Passphrase.ofEnvironment("wrong"), 16);
        assertThatThrownBy(() -> age.decrypt(new ByteArrayInputStream(v.age())))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.getMessage()).contains("LIFEBOAT_PASSPHRASE").doesNotContain("wrong");
                    assertThat(e.hint()).contains("another passphrase");
                });
    }
}
