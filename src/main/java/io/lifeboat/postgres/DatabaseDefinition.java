package io.lifeboat.postgres;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A database's own definition as its pg_dump archive holds it: the DATABASE entry (CREATE DATABASE
 * with encoding, locale provider, collation and tablespace, and the owner), the DATABASE PROPERTIES
 * entry (connection limit, template flag, {@code ALTER DATABASE … SET}, {@code ALTER ROLE … IN
 * DATABASE … SET}), its comment and security labels, and its ACL. These are the statements
 * {@code pg_restore --create} runs; kept here as statements so that they can be run under another
 * name: only the database identifier after {@code CREATE/ALTER/ON/IN DATABASE} changes, never a
 * string literal such as the comment's text.
 */
public final class DatabaseDefinition {
    private static final Set<String> BEFORE_NAME = Set.of("create", "alter", "on", "in");

    private final String name;
    private final List<SqlScript.Statement> create;
    private final List<SqlScript.Statement> owner;
    private final List<SqlScript.Statement> properties;
    private final List<SqlScript.Statement> privileges;

    private DatabaseDefinition(String name, List<SqlScript.Statement> create, List<SqlScript.Statement> owner,
                               List<SqlScript.Statement> properties, List<SqlScript.Statement> privileges) {
        this.name = name;
        this.create = List.copyOf(create);
        this.owner = List.copyOf(owner);
        this.properties = List.copyOf(properties);
        this.privileges = List.copyOf(privileges);
    }

    /**
     * Reads the statements of pg_restore's script of the database-level entries (session SETs and
     * psql meta-commands are left out: they belong to pg_restore's own session).
     *
     * @param name the database's name in the archive
     */
    public static DatabaseDefinition parse(String name, String script) {
        List<SqlScript.Statement> create = new ArrayList<>();
        List<SqlScript.Statement> owner = new ArrayList<>();
        List<SqlScript.Statement> properties = new ArrayList<>();
        List<SqlScript.Statement> privileges = new ArrayList<>();
        for (SqlScript.Statement s : SqlScript.parse(script)) {
            if (s.startsWith("CREATE", "DATABASE")) {
                create.add(s);
            } else if (s.startsWith("ALTER", "DATABASE") && isOwnerChange(s)) {
                owner.add(s);
            } else if (s.startsWith("GRANT") || s.startsWith("REVOKE") || s.startsWith("SET", "SESSION", "AUTHORIZATION")
                    || s.startsWith("RESET", "SESSION", "AUTHORIZATION")) {
                privileges.add(s);
            } else if (s.startsWith("SET") || s.startsWith("SELECT", "pg_catalog")) {
                continue; // pg_restore's session state (client_encoding, search_path, ...)
            } else {
                properties.add(s);
            }
        }
        return new DatabaseDefinition(name, create, owner, properties, privileges);
    }

    /** The definition pg_restore used before archives carried one: a plain database, as createdb -T template0 makes. */
    public static DatabaseDefinition plain(String name) {
        return parse(name, "CREATE DATABASE " + PgSession.quoteIdent(name) + " WITH TEMPLATE = template0;");
    }

    private static boolean isOwnerChange(SqlScript.Statement s) {
        List<SqlScript.Token> t = s.tokens();
        return t.size() >= 6 && t.get(3).isWord("OWNER") && t.get(4).isWord("TO");
    }

    public String name() {
        return name;
    }

    /** Whether the archive held a DATABASE entry (pg_dump always writes one into -Fd archives). */
    public boolean hasCreate() {
        return !create.isEmpty();
    }

    /** CREATE DATABASE; run only for a database that does not exist yet. */
    public List<String> createStatements() {
        return sql(create);
    }

    /** ALTER DATABASE … OWNER TO, with the creation (pg_restore --no-owner leaves it out). */
    public List<String> ownerStatements() {
        return sql(owner);
    }

    /** What ALTER DATABASE and friends can set on any database: connection limit, settings, comment, labels. */
    public List<String> propertyStatements() {
        return sql(properties);
    }

    /** GRANT/REVOKE on the database, run after its content as pg_restore does (pg_restore --no-privileges leaves it out). */
    public List<String> privilegeStatements() {
        return sql(privileges);
    }

    /**
     * The options of CREATE DATABASE, keys in upper case: ENCODING, LOCALE_PROVIDER, LOCALE,
     * LC_COLLATE, LC_CTYPE, ICU_LOCALE, TABLESPACE, ... (values unquoted).
     */
    public Map<String, String> createOptions() {
        Map<String, String> options = new LinkedHashMap<>();
        if (create.isEmpty()) {
            return options;
        }
        List<SqlScript.Token> t = create.get(0).tokens();
        for (int i = 3; i + 2 < t.size(); i++) {
            if (t.get(i).kind() == SqlScript.Kind.WORD && t.get(i + 1).text().equals("=")) {
                SqlScript.Token v = t.get(i + 2);
                options.put(t.get(i).text().toUpperCase(Locale.ROOT), v.kind() == SqlScript.Kind.STRING ? v.stringValue()
                        : v.isIdentifier() ? v.identifier() : v.text());
                i += 2;
            }
        }
        return options;
    }

    /** The database's default tablespace when it is not pg_default. */
    public Optional<String> tablespace() {
        return Optional.ofNullable(createOptions().get("TABLESPACE"));
    }

    /** The same definition for a database of another name. */
    public DatabaseDefinition renamed(String newName) {
        if (newName.equals(name)) {
            return this;
        }
        UnaryOperator<SqlScript.Statement> rename = s -> {
            SqlScript.Statement out = s;
            for (int i = 1; i + 1 < out.tokens().size(); i++) {
                SqlScript.Token before = out.tokens().get(i - 1);
                SqlScript.Token next = out.tokens().get(i + 1);
                if (out.tokens().get(i).isWord("DATABASE") && before.kind() == SqlScript.Kind.WORD
                        && BEFORE_NAME.contains(before.text().toLowerCase(Locale.ROOT)) && next.isIdentifier()
                        && name.equals(next.identifier())) {
                    out = out.replace(i + 1, i + 2, PgSession.quoteIdent(newName));
                }
            }
            return out;
        };
        return new DatabaseDefinition(newName, map(create, rename), map(owner, rename), map(properties, rename),
                map(privileges, rename));
    }

    /** Without TABLESPACE = … in CREATE DATABASE: the database goes into the server's default tablespace. */
    public DatabaseDefinition withoutTablespace() {
        UnaryOperator<SqlScript.Statement> strip = s -> {
            List<SqlScript.Token> t = s.tokens();
            for (int i = 3; i + 2 < t.size(); i++) {
                if (t.get(i).isWord("TABLESPACE") && t.get(i + 1).text().equals("=")) {
                    return s.replace(i, i + 3, "");
                }
            }
            return s;
        };
        return new DatabaseDefinition(name, map(create, strip), owner, properties, privileges);
    }

    private static List<SqlScript.Statement> map(List<SqlScript.Statement> l, UnaryOperator<SqlScript.Statement> f) {
        return l.stream().map(f).toList();
    }

    private static List<String> sql(List<SqlScript.Statement> l) {
        return l.stream().map(SqlScript.Statement::sql).toList();
    }
}
