package io.lifeboat.it;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.EmbeddedS3Server;
import io.lifeboat.storage.S3Settings;
import io.lifeboat.storage.S3Storage;
import io.lifeboat.storage.Timeouts;
import io.lifeboat.storage.TlsSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An https S3 endpoint (s3proxy's TLS listener) with a certificate the test makes itself, as a
 * private CA would: refused by default with a message saying what to set, trusted with ca-file,
 * refused with another CA's file or for another host name, and accepted with an explicit
 * verify-tls: false that warns on every run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3TlsIT {
    static final String PASSWORD = "keystore-pw";
    Path work;
    EmbeddedS3Server s3;
    EmbeddedS3Server misnamed;
    Path ca;
    Path otherCa;
    Path misnamedCa;

    @BeforeAll
    void start() throws IOException {
        work = Files.createTempDirectory("lifeboat-tls-");
        Path keyStore = certificate("s3", "ip:127.0.0.1");
        ca = work.resolve("s3.pem");
        otherCa = work.resolve(certificate("other", "ip:127.0.0.1").getFileName().toString().replace(".p12", ".pem"));
        Path misnamedStore = certificate("misnamed", "dns:s3.example.com");
        misnamedCa = work.resolve("misnamed.pem");
        s3 = EmbeddedS3Server.startTls(work.resolve("data"), keyStore, PASSWORD);
        s3.createBucket("tls");
        misnamed = EmbeddedS3Server.startTls(work.resolve("data2"), misnamedStore, PASSWORD);
        misnamed.createBucket("tls");
    }

    /** A self-signed certificate for the name in {@code san} (keytool, as an administrator would make one): its key store. */
    Path certificate(String name, String san) {
        Path store = work.resolve(name + ".p12");
        new ExternalProcess(List.of("keytool", "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=" + name, "-ext", "san=" + san, "-validity", "2", "-storetype", "PKCS12", "-keystore",
                store.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD), Map.of()).runChecked("keytool -genkeypair");
        new ExternalProcess(List.of("keytool", "-exportcert", "-rfc", "-alias", name, "-keystore", store.toString(),
                "-storepass", PASSWORD, "-file", work.resolve(name + ".pem").toString()), Map.of())
                .runChecked("keytool -exportcert");
        return store;
    }

    @AfterAll
    void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (misnamed != null) {
            misnamed.close();
        }
        ScratchCluster.deleteTree(work);
    }

    Path config(EmbeddedS3Server server, String tlsLines) throws IOException {
        Path f = Files.createTempFile(work, "lifeboat", ".yml");
        Files.writeString(f, """
                clusters:
                  main:
                    repositories:
                      - name: private
                        uri: s3://tls/p?endpoint=%s&region=us-east-1&path-style=true
                        access-key-id: %s
                        secret-access-key: %s
                        allow-same-server: true
                %s
                """.formatted(server.endpoint(), server.accessKey(), server.secretKey(), tlsLines.indent(8)));
        return f;
    }

    @Test
    void aPrivateCaIsRefusedUntilItsCertificateIsTrusted() throws IOException {
        Cli.Result refused = Cli.run("list", "--config", config(s3, "").toString());
        assertThat(refused.exit()).as(refused.toString()).isEqualTo(6);
        assertThat(refused.err()).contains("TLS certificate", "not trusted", s3.endpoint().toString(), "ca-file");

        Cli.Result trusted = Cli.run("list", "--config", config(s3, "ca-file: " + ca).toString());
        assertThat(trusted.exit()).as(trusted.toString()).isZero();
        assertThat(trusted.err()).doesNotContain("verify-tls");

        Cli.Result other = Cli.run("list", "--config", config(s3, "ca-file: " + otherCa).toString());
        assertThat(other.exit()).as(other.toString()).isEqualTo(6);
        assertThat(other.err()).contains("not trusted");
    }

    @Test
    void aCertificateForAnotherHostIsRefusedEvenFromATrustedCa() throws IOException {
        Cli.Result r = Cli.run("list", "--config", config(misnamed, "ca-file: " + misnamedCa).toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(6);
        assertThat(r.err()).contains("not trusted").contains("127.0.0.1");
    }

    @Test
    void verifyTlsFalseIsExplicitAndWarnsOnEveryRun() throws IOException {
        Path cfg = config(s3, "verify-tls: false");
        for (int i = 0; i < 2; i++) {
            Cli.Result r = Cli.run("list", "--config", cfg.toString());
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.err()).contains("warning", "verify-tls: false", "not checked");
        }
        // as a URI parameter, and for a certificate of another host name too: nothing is checked
        Path uriParam = config(misnamed, "");
        Files.writeString(uriParam, Files.readString(uriParam).replace("&path-style=true", "&path-style=true&verify-tls=false"));
        Cli.Result viaUri = Cli.run("list", "--config", uriParam.toString());
        assertThat(viaUri.exit()).as(viaUri.toString()).isZero();
        assertThat(viaUri.err()).contains("verify-tls: false");
    }

    /** The driver itself: a round trip over TLS with the CA's certificate, and a clear error without it. */
    @Test
    void theDriverRoundTripsOverTlsWithTheCaFile() throws IOException {
        S3Settings base = s3.settings("tls", "driver");
        S3Settings trusted = new S3Settings(base.bucket(), base.prefix(), base.endpoint(), base.region(), true,
                base.accessKeyId(), base.secretAccessKey(), base.partSizeBytes(), 2, Timeouts.DEFAULT,
                new TlsSettings(ca, true));
        try (S3Storage st = new S3Storage(trusted)) {
            byte[] data = new byte[300_000];
            new java.util.Random(3).nextBytes(data);
            st.put("k", data);
            assertThat(st.get("k")).isEqualTo(data);
        }
        try (S3Storage st = new S3Storage(base)) {
            assertThatThrownBy(st::probe).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("not trusted");
            });
        }
    }
}
