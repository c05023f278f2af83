package io.lifeboat.engine.logical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.DatabaseDefinition;
import io.lifeboat.postgres.PgSession;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs a database's own definition from its archive on the target, in pg_restore --create's order:
 * CREATE DATABASE and its owner (only for a database that does not exist), then its properties
 * (settings, connection limit, comment) before the content, and its privileges after it. A failed
 * property or privilege statement is counted and reported, as pg_restore does with its own; a
 * database that cannot be created stops the restore of it.
 */
final class DatabaseCreation {
    private final RestoreTarget target;
    private final boolean noOwner;
    private final RestoreLog log;

    DatabaseCreation(RestoreTarget target, boolean noOwner, RestoreLog log) {
        this.target = target;
        this.noOwner = noOwner;
        this.log = log;
    }

    RestoreTarget target() {
        return target;
    }

    /** @param errors collects the failed statements' errors (the owner's; a failed CREATE DATABASE throws) */
    void create(DatabaseDefinition d, Consumer<String> errors) {
        PgSession s = target.shared();
        for (String sql : d.createStatements()) {
            log.line(sql + ";");
            try {
                s.execute(sql);
            } catch (LifeboatException e) {
                log.line("ERROR: " + e.getMessage());
                Map<String, String> o = d.createOptions();
                o.remove("TEMPLATE");
                throw new LifeboatException(ErrorKind.DATABASE, "cannot create database '" + d.name() + "' on "
                        + target.where() + " as the backup defines it (" + describe(o) + "): " + e.getMessage(),
                        "the target server needs the database's encoding, locale (and ICU, for locale provider icu) "
                                + "and tablespace; see " + log.path(), e);
            }
        }
        if (!noOwner) {
            run(target.shared(), d.ownerStatements(), errors);
        }
    }

    /**
     * Drops a database this restore created, when its restore cannot go on (a dump file failed its
     * checksum after the schema was in): a half-made database is not left looking like a restored
     * one. Best effort: the failure that led here is what the user is told.
     */
    void dropCreated(String name, Consumer<String> warn) {
        String sql = "DROP DATABASE IF EXISTS " + PgSession.quoteIdent(name);
        log.line(sql + ";");
        try {
            target.shared().execute(sql);
        } catch (LifeboatException e) {
            log.line("ERROR: " + e.getMessage());
            warn.accept("warning: could not drop the unfinished database '" + name + "' on " + target.where() + ": "
                    + e.getMessage());
        }
    }

    /** @param errors collects the failed statements' errors */
    void applyProperties(DatabaseDefinition d, Consumer<String> errors) {
        run(target.shared(), d.propertyStatements(), errors);
    }

    /** @param errors collects the failed statements' errors */
    void applyPrivileges(DatabaseDefinition d, Consumer<String> errors) {
        if (!noOwner && !d.privilegeStatements().isEmpty()) {
            // its own session: privileges may be granted as their grantor (SET SESSION AUTHORIZATION)
            try (PgSession s = target.session()) {
                run(s, d.privilegeStatements(), errors);
            }
        }
    }

    private void run(PgSession s, List<String> statements, Consumer<String> errors) {
        for (String sql : statements) {
            log.line(sql + ";");
            try {
                s.execute(sql);
            } catch (LifeboatException e) {
                String msg = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
                log.line("ERROR: " + msg);
                errors.accept(sql + ": " + msg);
            }
        }
    }

    private static String describe(Map<String, String> options) {
        List<String> parts = new ArrayList<>();
        options.forEach((k, v) -> parts.add(k + " " + v));
        return parts.isEmpty() ? "no options" : String.join(", ", parts);
    }
}
