package io.lifeboat.agent.notify;

import io.lifeboat.config.AgentConfig;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;

import java.nio.file.Files;
import java.util.Date;
import java.util.Properties;

/** Sends each alert as a plain-text mail over SMTP (Jakarta Mail, Angus implementation). */
final class EmailChannel implements Notifier.Channel {
    private final AgentConfig.Email cfg;

    EmailChannel(AgentConfig.Email cfg) {
        this.cfg = cfg;
    }

    @Override
    public String name() {
        return "e-mail";
    }

    @Override
    public void send(Alert a) throws Exception {
        Properties p = new Properties();
        p.put("mail.smtp.host", cfg.host());
        p.put("mail.smtp.port", Integer.toString(cfg.port()));
        p.put("mail.smtp.connectiontimeout", "10000");
        p.put("mail.smtp.timeout", "20000");
        p.put("mail.smtp.writetimeout", "20000");
        if (cfg.security().equals("starttls")) {
            p.put("mail.smtp.starttls.enable", "true");
            p.put("mail.smtp.starttls.required", "true");
        } else if (cfg.security().equals("tls")) {
            p.put("mail.smtp.ssl.enable", "true");
        }
        String password = cfg.passwordFile() == null ? null : Files.readString(cfg.passwordFile()).trim();
        p.put("mail.smtp.auth", Boolean.toString(cfg.username() != null));
        Session session = Session.getInstance(p);
        MimeMessage m = new MimeMessage(session);
        m.setFrom(new InternetAddress(cfg.from()));
        for (String to : cfg.to()) {
            m.addRecipient(Message.RecipientType.TO, new InternetAddress(to));
        }
        m.setSubject(a.subject(), "UTF-8");
        m.setSentDate(new Date());
        m.setText(a.text().replaceFirst("^:[a-z_]+: ", "") + "\n\ncluster: " + a.cluster() + "\nproblem: " + a.problem()
                + "\nmessage: " + a.message() + "\nopen since: " + a.since()
                + (a.resolved() == null ? "" : "\nresolved: " + a.resolved()) + "\nagent host: " + a.host() + "\n", "UTF-8");
        if (cfg.username() != null) {
            Transport.send(m, cfg.username(), password);
        } else {
            Transport.send(m);
        }
    }
}
