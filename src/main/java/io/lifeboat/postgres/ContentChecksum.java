package io.lifeboat.postgres;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A fingerprint of a database's content: per table, the row count and an order-independent hash
 * of all rows; plus sequences and large objects. Two databases with equal fingerprints hold the
 * same data, which is how the demo, the tests and restore drills prove a round trip.
 */
public final class ContentChecksum {
    private ContentChecksum() {
    }

    public record Entry(long rows, String hash) {
        @Override
        public String toString() {
            return rows + " rows, " + hash;
        }
    }

    public static Map<String, Entry> of(PgSession s) {
        Map<String, Entry> out = new LinkedHashMap<>();
        List<List<String>> tables = s.query("SELECT format('%I.%I', n.nspname, c.relname), c.relkind FROM pg_class c "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'S') "
                + "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
                + "AND NOT c.relispartition ORDER BY 1");
        for (List<String> t : tables) {
            String name = t.get(0);
            if (t.get(1).equals("S")) {
                List<String> r = s.query("SELECT last_value::text, is_called::text FROM " + name).get(0);
                out.put("sequence " + name, new Entry(1, r.get(0) + "/" + r.get(1)));
                continue;
            }
            List<String> r = s.query("SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
                    + "FROM (SELECT md5(t::text) AS h FROM " + name + " t) x").get(0);
            out.put("table " + name, new Entry(Long.parseLong(r.get(0)), r.get(1)));
        }
        List<String> lo = s.query("SELECT count(*), md5(coalesce(string_agg(oid::text || ':' || md5(lo_get(oid)), ',' "
                + "ORDER BY oid), '')) FROM pg_largeobject_metadata").get(0);
        out.put("large objects", new Entry(Long.parseLong(lo.get(0)), lo.get(1)));
        return out;
    }

    /** Names of entries that differ (or exist on one side only); empty when the content is the same. */
    public static List<String> differences(Map<String, Entry> before, Map<String, Entry> after) {
        java.util.TreeSet<String> keys = new java.util.TreeSet<>(before.keySet());
        keys.addAll(after.keySet());
        return keys.stream().filter(k -> !java.util.Objects.equals(before.get(k), after.get(k))).toList();
    }
}
