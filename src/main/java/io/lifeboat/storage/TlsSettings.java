package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;

/**
 * How an https endpoint's certificate is checked.
 *
 * @param caFile PEM file of the certificate authorities to trust instead of the system's (a private
 *               CA), or null for the system's
 * @param verify false only when explicitly configured: no certificate or host name is checked at all
 *               (anyone on the path can read and change the traffic; every run warns)
 */
public record TlsSettings(Path caFile, boolean verify) {
    public static final TlsSettings DEFAULT = new TlsSettings(null, true);

    /** Trust managers that trust exactly the certificates in {@link #caFile}. */
    TrustManager[] trustManagers() {
        try (InputStream in = Files.newInputStream(caFile)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new LifeboatException(ErrorKind.CONFIG, "ca-file " + caFile + " holds no certificate",
                        "point ca-file at the PEM certificate (-----BEGIN CERTIFICATE-----) of the CA that signed the "
                                + "endpoint's certificate");
            }
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            return tmf.getTrustManagers();
        } catch (IOException | GeneralSecurityException e) {
            throw new LifeboatException(ErrorKind.CONFIG, "cannot read the CA certificates in ca-file " + caFile + ": "
                    + e.getMessage(), "ca-file must be a readable PEM file of one or more certificates", e);
        }
    }
}
