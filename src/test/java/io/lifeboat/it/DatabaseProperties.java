package io.lifeboat.it;

import io.lifeboat.postgres.PgSession;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What pg_restore --create brings back of a database itself, read from the catalogs: its
 * pg_database row (owner, encoding, locale provider, collation, ICU locale, connection limit,
 * template flag, tablespace, ACL: no ACL counts as the default one, as PostgreSQL reads it), its comment and
 * its pg_db_role_setting rows (ALTER DATABASE … SET
 * and ALTER ROLE … IN DATABASE … SET), with names instead of OIDs so that two servers compare.
 */
final class DatabaseProperties {
    private DatabaseProperties() {
    }

    static Map<String, String> of(PgSession s, String db) {
        String icu = s.serverVersion().major() >= 17 ? "d.datlocale" : "d.daticulocale";
        List<List<String>> rows = s.query("SELECT pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datlocprovider::text, "
                + "d.datcollate, d.datctype, " + icu + ", d.datconnlimit::text, d.datistemplate::text, d.datallowconn::text, "
                + "t.spcname, shobj_description(d.oid, 'pg_database'), "
                + "(SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(coalesce(d.datacl, acldefault('d', d.datdba))) a), "
                + "(SELECT string_agg(coalesce(r.rolname, '*') || ':' || array_to_string(ARRAY(SELECT unnest(x.setconfig) "
                + "ORDER BY 1), ','), ' ' ORDER BY 1) FROM pg_db_role_setting x LEFT JOIN pg_roles r ON r.oid = x.setrole "
                + "WHERE x.setdatabase = d.oid) "
                + "FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = " + PgSession.quoteLiteral(db));
        if (rows.isEmpty()) {
            return Map.of();
        }
        List<String> r = rows.get(0);
        String[] names = {"owner", "encoding", "locale provider", "collate", "ctype", "icu locale", "connection limit",
                "is template", "allow connections", "tablespace", "comment", "acl", "settings"};
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            out.put(names[i], r.get(i));
        }
        return out;
    }

    /** The databases of a server other than template0, each with its properties. */
    static Map<String, Map<String, String>> all(PgSession s) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        for (List<String> r : s.query("SELECT datname FROM pg_database WHERE datname <> 'template0' ORDER BY 1")) {
            out.put(r.get(0), of(s, r.get(0)));
        }
        return out;
    }
}
