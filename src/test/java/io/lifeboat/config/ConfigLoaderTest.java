package io.lifeboat.config;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.codec.Compression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path f = dir.resolve("lifeboat.yml");
        Files.writeString(f, yaml);
        return f;
    }

    private static final String GOOD = """
            clusters:
              main:
                postgres:
                  host: db1.example.com
                  port: 5433
                  user: backup
                  database: app
                repositories:
                  - name: s3
                    uri: s3://bucket/prefix?endpoint=https://s3.example.com:9000&region=eu-1&path-style=true
                    compression: lz4
                    access-key-id: AKIA
                    secret-access-key: verysecret
                  - uri: file:///mnt/nfs/backups
                jobs: 3
              other:
                postgres:
                  host: db2.example.com
                repositories:
                  - uri: file:///mnt/nfs/other
            """;

    @Test
    void readsAClusterWithSeveralRepositories() throws IOException {
        ClusterConfig c = ConfigLoader.load(write(GOOD), "main", Map.of(), Map.of());
        assertThat(c.postgres().host()).isEqualTo("db1.example.com");
        assertThat(c.postgres().port()).isEqualTo(5433);
        assertThat(c.jobs()).isEqualTo(3);
        assertThat(c.repositories()).hasSize(2);
        RepositoryConfig s3 = c.repositories().get(0);
        assertThat(s3.compression()).isEqualTo(Compression.LZ4);
        assertThat(s3.uri().bucket()).isEqualTo("bucket");
        assertThat(s3.uri().path()).isEqualTo("prefix");
        assertThat(s3.uri().params()).containsEntry("path-style", "true");
        assertThat(s3.toString()).doesNotContain("verysecret");
        assertThat(c.repositories().get(1).name()).isEqualTo("repo2");
    }

    @Test
    void environmentOverridesFileAndFlagsOverrideEnvironment() throws IOException {
        Path f = write(GOOD);
        ClusterConfig env = ConfigLoader.load(f, "main", Map.of("LIFEBOAT_PG_HOST", "envhost", "LIFEBOAT_JOBS", "5"), Map.of());
        assertThat(env.postgres().host()).isEqualTo("envhost");
        assertThat(env.jobs()).isEqualTo(5);
        ClusterConfig flag = ConfigLoader.load(f, "main", Map.of("LIFEBOAT_PG_HOST", "envhost"), Map.of("pg-host", "flaghost"));
        assertThat(flag.postgres().host()).isEqualTo("flaghost");
    }

    @Test
    void severalClustersNeedAChoice() throws IOException {
        assertThatThrownBy(() -> ConfigLoader.load(write(GOOD), null, Map.of(), Map.of()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.USAGE);
                    assertThat(e.getMessage()).contains("main", "other");
                });
        assertThatThrownBy(() -> ConfigLoader.load(write(GOOD), "nope", Map.of(), Map.of()))
                .hasMessageContaining("'nope' is not defined");
    }

    @Test
    void unknownKeyIsReportedWithItsLine() throws IOException {
        Path f = write("""
                clusters:
                  main:
                    postgres:
                      host: x
                      prot: 5432
                """);
        assertThatThrownBy(() -> ConfigLoader.load(f, null, Map.of(), Map.of()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CONFIG);
                    assertThat(e.exitCode()).isEqualTo(3);
                    assertThat(e.getMessage()).contains("line 5", "main.postgres.prot", "not a known setting");
                });
    }

    @Test
    void badValuesNameKeyAndLine() throws IOException {
        Path f = write("""
                clusters:
                  main:
                    postgres:
                      port: eighty
                """);
        assertThatThrownBy(() -> ConfigLoader.load(f, null, Map.of(), Map.of()))
                .hasMessageContaining("line 4").hasMessageContaining("port").hasMessageContaining("whole number");
        Path g = write("""
                clusters:
                  main:
                    repositories:
                      - uri: ftp://host/x
                """);
        assertThatThrownBy(() -> ConfigLoader.load(g, null, Map.of(), Map.of()))
                .hasMessageContaining("line 4").hasMessageContaining("unknown scheme");
    }

    @Test
    void brokenYamlIsReportedWithItsLine() throws IOException {
        Path f = write("clusters:\n  main:\n    postgres: [unclosed\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, null, Map.of(), Map.of()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CONFIG);
                    assertThat(e.getMessage()).contains("not valid YAML").containsPattern("line \\d");
                });
    }

    @Test
    void halfACredentialPairIsRefused() throws IOException {
        Path f = write("""
                clusters:
                  main:
                    repositories:
                      - uri: s3://b/p
                        access-key-id: AKIA
                """);
        assertThatThrownBy(() -> ConfigLoader.load(f, null, Map.of(), Map.of()))
                .hasMessageContaining("access key id without a secret");
    }

    @Test
    void passwordInUriIsRefused() {
        assertThatThrownBy(() -> RepositoryUri.parse("sftp://user:pw@host/path"))
                .hasMessageContaining("password");
    }

    @Test
    void worksWithoutAFile() {
        ClusterConfig c = ConfigLoader.load(null, null, Map.of("LIFEBOAT_REPO", "file:///mnt/x", "LIFEBOAT_PG_PORT", "6000"),
                Map.of());
        assertThat(c.name()).isEqualTo("default");
        assertThat(c.postgres().port()).isEqualTo(6000);
        assertThat(c.primaryRepository().uri().path()).isEqualTo("/mnt/x");
    }

    @Test
    void encryptionAndMinimumRepositories() throws IOException {
        ClusterConfig plain = ConfigLoader.load(write(GOOD), "main", Map.of(), Map.of());
        assertThat(plain.encryption()).isNull();
        assertThat(plain.minRepositories()).isEqualTo(2); // every repository by default
        Path f = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                      - uri: file:///mnt/b
                    min-repositories: 1
                    encryption:
                      recipients:
                        - age1c493c74vm3dg42vgdg50j8ak28ckh2zq6yyqu3qfrgjvyj04fgaswr0m9l
                """);
        ClusterConfig c = ConfigLoader.load(f, null, Map.of(), Map.of());
        assertThat(c.minRepositories()).isEqualTo(1);
        assertThat(c.encryption().recipients()).hasSize(1);
        assertThat(c.encryption().identityFile()).isNull();
        assertThat(c.encryptionStage().scheme()).isEqualTo("age");
        ClusterConfig withKey = ConfigLoader.load(f, null, Map.of("LIFEBOAT_IDENTITY_FILE", "/keys/id.txt"), Map.of());
        assertThat(withKey.encryption().identityFile()).isEqualTo(Path.of("/keys/id.txt"));
        // a restore host with only the identity, passed as a flag
        ClusterConfig restoreOnly = ConfigLoader.load(null, null, Map.of("LIFEBOAT_REPO", "file:///mnt/x"),
                Map.of("identity-file", "/keys/id.txt"));
        assertThat(restoreOnly.encryption().recipients()).isEmpty();
    }

    @Test
    void badEncryptionSettingsNameKeyAndLine() throws IOException {
        Path f = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                    encryption:
                      recipients: [age1notakey]
                """);
        assertThatThrownBy(() -> ConfigLoader.load(f, null, Map.of(), Map.of()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CONFIG);
                    assertThat(e.getMessage()).contains("line 6", "recipients", "age1notakey", "not an age recipient");
                });
        Path g = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                    min-repositories: 2
                """);
        assertThatThrownBy(() -> ConfigLoader.load(g, null, Map.of(), Map.of()))
                .hasMessageContaining("line 5").hasMessageContaining("min-repositories").hasMessageContaining("1 repositories");
        Path h = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                    encryption:
                      passphrase: hunter2
                """);
        assertThatThrownBy(() -> ConfigLoader.load(h, null, Map.of(), Map.of()))
                .hasMessageContaining("line 6").hasMessageContaining("passphrase").hasMessageNotContaining("hunter2");
    }

    @Test
    void passphraseFromFileOrEnvironmentNeverFromTheConfigOrAToString() throws IOException {
        Path f = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                    encryption:
                      passphrase-file: /secure/lifeboat-passphrase
                      scrypt-work-factor: 15
                """);
        ClusterConfig c = ConfigLoader.load(f, null, Map.of(), Map.of());
        assertThat(c.encryption().recipients()).isEmpty();
        assertThat(c.encryption().passphrase().file()).isEqualTo(Path.of("/secure/lifeboat-passphrase"));
        assertThat(c.encryption().scryptWorkFactor()).isEqualTo(15);
        assertThat(c.encryptionStage().scheme()).isEqualTo("age-scrypt");
        // LIFEBOAT_PASSPHRASE beats the file setting (environment over file); --passphrase-file beats both
        ClusterConfig env = ConfigLoader.load(f, null, Map.of("LIFEBOAT_PASSPHRASE", "correct horse"), Map.of());
        assertThat(env.encryption().passphrase().file()).isNull();
        assertThat(env.encryption().passphrase().bytes()).isEqualTo("correct horse".getBytes());
        assertThat(env.toString()).doesNotContain("correct horse");
        ClusterConfig flag = ConfigLoader.load(f, null, Map.of("LIFEBOAT_PASSPHRASE", "correct horse"),
                Map.of("passphrase-file", "/other/file"));
        assertThat(flag.encryption().passphrase().file()).isEqualTo(Path.of("/other/file"));
        ClusterConfig envFile = ConfigLoader.load(f, null, Map.of("LIFEBOAT_PASSPHRASE_FILE", "/env/file"), Map.of());
        assertThat(envFile.encryption().passphrase().file()).isEqualTo(Path.of("/env/file"));
        // a restore host with nothing but the repository and the passphrase in the environment
        ClusterConfig bare = ConfigLoader.load(null, null, Map.of("LIFEBOAT_REPO", "file:///mnt/x",
                "LIFEBOAT_PASSPHRASE", "correct horse"), Map.of());
        assertThat(bare.encryption().scryptWorkFactor()).isEqualTo(16);
        assertThat(bare.encryptionStage().scheme()).isEqualTo("age-scrypt");
    }

    @Test
    void recipientsAndAPassphraseAreExclusive() throws IOException {
        Path both = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                    encryption:
                      recipients:
                        - age1c493c74vm3dg42vgdg50j8ak28ckh2zq6yyqu3qfrgjvyj04fgaswr0m9l
                      passphrase-file: /secure/p
                """);
        assertThatThrownBy(() -> ConfigLoader.load(both, null, Map.of(), Map.of()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CONFIG);
                    assertThat(e.getMessage()).contains("line 7", "encryption.recipients'",
                            "'clusters.main.encryption.passphrase-file'", "not both");
                });
        Path recipients = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                    encryption:
                      recipients:
                        - age1c493c74vm3dg42vgdg50j8ak28ckh2zq6yyqu3qfrgjvyj04fgaswr0m9l
                """);
        assertThatThrownBy(() -> ConfigLoader.load(recipients, null, Map.of("LIFEBOAT_PASSPHRASE", "s3cret"), Map.of()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CONFIG);
                    assertThat(e.getMessage()).contains("recipients", "LIFEBOAT_PASSPHRASE").doesNotContain("s3cret");
                });
        Path factorAlone = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                    encryption:
                      identity-file: /k
                      scrypt-work-factor: 18
                """);
        assertThatThrownBy(() -> ConfigLoader.load(factorAlone, null, Map.of(), Map.of()))
                .hasMessageContaining("line 7").hasMessageContaining("scrypt-work-factor");
        Path tooHigh = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                    encryption:
                      passphrase-file: /p
                      scrypt-work-factor: 23
                """);
        assertThatThrownBy(() -> ConfigLoader.load(tooHigh, null, Map.of(), Map.of()))
                .hasMessageContaining("scrypt-work-factor").hasMessageContaining("between 10 and 22");
        // an identity file may sit beside a passphrase: a host that reads backups of both kinds
        Path mixedReader = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                    encryption:
                      identity-file: /k
                      passphrase-file: /p
                """);
        ClusterConfig m = ConfigLoader.load(mixedReader, null, Map.of(), Map.of());
        assertThat(m.encryption().identityFile()).isEqualTo(Path.of("/k"));
        assertThat(m.encryption().passphrase().file()).isEqualTo(Path.of("/p"));
    }

    @Test
    void aDirectoryGivenAsTheConfigurationFileIsCalledADirectory() {
        assertThatThrownBy(() -> ConfigLoader.locate(dir, Map.of())).isInstanceOf(LifeboatException.class)
                .hasMessageContaining("is a directory").hasMessageNotContaining("does not exist");
        assertThatThrownBy(() -> ConfigLoader.locate(null, Map.of("LIFEBOAT_CONFIG", dir.toString())))
                .hasMessageContaining("is a directory").hasMessageContaining("LIFEBOAT_CONFIG");
        assertThatThrownBy(() -> ConfigLoader.locate(dir.resolve("nope.yml"), Map.of())).hasMessageContaining("does not exist");
    }

    @Test
    void aBadFlagOrVariableIsBlamedOnItselfNotOnALineOfTheFile() throws IOException {
        Path f = write(GOOD);
        LifeboatException flag = catchThrowableOfType(LifeboatException.class, () -> ConfigLoader.load(f, "main", Map.of(),
                Map.of("compression", "brotli")));
        assertThat(flag.getMessage()).startsWith("--compression: ").contains("brotli").doesNotContain("line");
        assertThat(flag.exitCode()).isEqualTo(3);
        LifeboatException env = catchThrowableOfType(LifeboatException.class, () -> ConfigLoader.load(f, "main",
                Map.of("LIFEBOAT_COMPRESSION", "brotli"), Map.of()));
        assertThat(env.getMessage()).startsWith("LIFEBOAT_COMPRESSION: ").doesNotContain("line");
        // In the file, the line of the key that is wrong, not the line of the uri.
        Path bad = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                        compression: brotli
                """);
        assertThatThrownBy(() -> ConfigLoader.load(bad, null, Map.of(), Map.of()))
                .hasMessageContaining("line 5").hasMessageContaining("compression");
        // A malformed endpoint is a configuration error (3) that names where it came from.
        LifeboatException ep = catchThrowableOfType(LifeboatException.class, () -> ConfigLoader.load(null, "x", Map.of(),
                Map.of("repo", "s3://b/p?endpoint=http://[bad")));
        assertThat(ep.exitCode()).isEqualTo(3);
        assertThat(ep.getMessage()).startsWith("--repo: ").contains("endpoint");
        LifeboatException epEnv = catchThrowableOfType(LifeboatException.class, () -> ConfigLoader.load(null, "x",
                Map.of("LIFEBOAT_REPO", "s3://b/p?endpoint=http://[bad"), Map.of()));
        assertThat(epEnv.getMessage()).startsWith("LIFEBOAT_REPO: ");
    }

    @Test
    void aSecondRepositoryTakesTheFirstOnesCompressionAndMayNotSetAnother() throws IOException {
        ClusterConfig c = ConfigLoader.load(write(GOOD), "main", Map.of(), Map.of());
        assertThat(c.repositories().get(1).compression()).as("inherits the first's").isEqualTo(Compression.LZ4);
        assertThat(c.repositories().get(1).compressionLevel()).isEqualTo(c.repositories().get(0).compressionLevel());
        Path same = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                        compression: gzip
                      - uri: file:///mnt/b
                        compression: gzip
                """);
        assertThat(ConfigLoader.load(same, null, Map.of(), Map.of()).repositories().get(1).compression())
                .isEqualTo(Compression.GZIP);
        Path other = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                      - uri: file:///mnt/b
                        compression: none
                """);
        assertThatThrownBy(() -> ConfigLoader.load(other, null, Map.of(), Map.of())).isInstanceOf(LifeboatException.class)
                .hasMessageContaining("line 6").hasMessageContaining("compression").hasMessageContaining("first repository");
        Path level = write("""
                clusters:
                  main:
                    repositories:
                      - uri: file:///mnt/a
                        compression-level: 9
                      - uri: file:///mnt/b
                        compression-level: 1
                """);
        assertThatThrownBy(() -> ConfigLoader.load(level, null, Map.of(), Map.of()))
                .hasMessageContaining("line 7").hasMessageContaining("compression-level");
    }

    @Test
    void timeoutsRetryTimeAndTlsTrustComeFromTheEntryOrTheUri() throws IOException {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        ClusterConfig c = ConfigLoader.load(write("""
                clusters:
                  main:
                    repositories:
                      - name: private
                        uri: s3://b/p?endpoint=https://s3.internal:9000&read-timeout=5s&retry-time=30s
                        connect-timeout: 500ms
                        read-timeout: 20s
                        ca-file: %s
                      - name: test
                        uri: s3://b/p?endpoint=https://10.0.0.9&verify-tls=false
                      - name: nfs
                        uri: file:///mnt/nfs/x
                        retry-time: 5m
                """.formatted(ca)), null, Map.of(), Map.of());
        RepositoryConfig.NetworkOptions p = c.repositories().get(0).network();
        assertThat(p.connectTimeout()).isEqualTo(java.time.Duration.ofMillis(500));
        assertThat(p.readTimeout()).as("the entry wins over the URI").isEqualTo(java.time.Duration.ofSeconds(20));
        assertThat(p.retryTime()).isEqualTo(java.time.Duration.ofSeconds(30));
        assertThat(p.caFile()).isEqualTo(ca);
        assertThat(p.verifyTls()).isTrue();
        assertThat(c.repositories().get(1).network().verifyTls()).isFalse();
        assertThat(c.repositories().get(2).network().retryTime()).isEqualTo(java.time.Duration.ofMinutes(5));
        assertThat(c.repositories().get(2).network().readTimeout()).as("the driver's default").isNull();
    }

    @Test
    void badTimeoutAndTlsSettingsNameTheKey() throws IOException {
        String[][] cases = {
                {"uri: s3://b/p?endpoint=https://h\n        read-timeout: 10", "'clusters.main.repositories[0].read-timeout' must "
                        + "be a duration"},
                {"uri: s3://b/p?endpoint=https://h\n        connect-timeout: 2d", "connect-timeout"},
                {"uri: s3://b/p?endpoint=http://h:9000\n        verify-tls: false", "https endpoint only"},
                {"uri: sftp://u@h/x\n        ca-file: /etc/ssl/ca.pem", "'clusters.main.repositories[0].ca-file' is for s3"},
                {"uri: s3://b/p?endpoint=https://h\n        ca-file: /no/such/ca.pem", "does not exist or cannot be read"},
                {"uri: s3://b/p?endpoint=https://h\n        verify-tls: maybe", "must be true or false"},
                {"uri: file:///mnt/x\n        read-timeout: 5s", "network repositories"},
                {"uri: s3://b/p?endpoint=https://h&retry-time=forever", "repository 'repo1': 'retry-time' must be a duration"},
        };
        for (String[] t : cases) {
            Path f = write("clusters:\n  main:\n    repositories:\n      - " + t[0] + "\n");
            assertThatThrownBy(() -> ConfigLoader.load(f, null, Map.of(), Map.of())).as(t[0])
                    .isInstanceOfSatisfying(LifeboatException.class, e -> {
                        assertThat(e.kind()).isEqualTo(ErrorKind.CONFIG);
                        assertThat(e.getMessage()).contains(t[1]);
                    });
        }
        assertThat(ConfigLoader.parseTimeout("250ms")).isEqualTo(java.time.Duration.ofMillis(250));
        assertThat(ConfigLoader.parseTimeout("2 m")).isEqualTo(java.time.Duration.ofMinutes(2));
        assertThat(ConfigLoader.parseTimeout("1.5s")).isNull();
    }
}
