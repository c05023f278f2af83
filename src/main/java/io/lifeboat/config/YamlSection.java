package io.lifeboat.config;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A YAML mapping with its position in the file, so that every configuration error can name the key
 * and the line (SnakeYAML's node marks).
 */
final class YamlSection {
    private final String file;
    private final String path;
    private final MappingNode node;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();

    YamlSection(String file, String path, Node node) {
        this.file = file;
        this.path = path;
        if (!(node instanceof MappingNode m)) {
            throw error(path, node, "must be a mapping of keys to values");
        }
        this.node = m;
        for (NodeTuple t : m.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode k)) {
                throw error(path, t.getKeyNode(), "has a key that is not a plain name");
            }
            if (entries.put(k.getValue(), t) != null) {
                throw error(child(k.getValue()), k, "is given twice");
            }
        }
    }

    String path() {
        return path;
    }

    int line() {
        return node.getStartMark().getLine() + 1;
    }

    private String child(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    LifeboatException error(String keyPath, Node at, String what) {
        String where = at == null ? file : file + " line " + (at.getStartMark().getLine() + 1);
        return new LifeboatException(ErrorKind.CONFIG, where + ": '" + keyPath + "' " + what,
                "fix the configuration file; docs/configuration.md lists every key");
    }

    LifeboatException error(String key, String what) {
        NodeTuple t = entries.get(key);
        return error(child(key), t == null ? node : t.getValueNode(), what);
    }

    /** Refuses keys we do not know, which are almost always typos that would silently do nothing. */
    void allowOnly(Set<String> known) {
        for (var e : entries.entrySet()) {
            if (!known.contains(e.getKey())) {
                throw error(child(e.getKey()), e.getValue().getKeyNode(),
                        "is not a known setting (known here: " + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    Set<String> keys() {
        return entries.keySet();
    }

    boolean has(String key) {
        return entries.containsKey(key);
    }

    String string(String key) {
        NodeTuple t = entries.get(key);
        if (t == null) {
            return null;
        }
        if (!(t.getValueNode() instanceof ScalarNode s)) {
            throw error(key, "must be a single value");
        }
        String v = s.getValue();
        return v == null || v.isEmpty() || v.equals("~") || v.equals("null") ? null : v;
    }

    Integer integer(String key, int min, int max) {
        String v = string(key);
        if (v == null) {
            return null;
        }
        try {
            int i = Integer.parseInt(v.trim());
            if (i < min || i > max) {
                throw error(key, "must be between " + min + " and " + max + ", not " + i);
            }
            return i;
        } catch (NumberFormatException e) {
            throw error(key, "must be a whole number, not '" + v + "'");
        }
    }

    Boolean bool(String key) {
        String v = string(key);
        if (v == null) {
            return null;
        }
        return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw error(key, "must be true or false, not '" + v + "'");
        };
    }

    /** A single value or a list of values, as a list; empty when absent. */
    List<String> strings(String key) {
        NodeTuple t = entries.get(key);
        if (t == null) {
            return List.of();
        }
        if (t.getValueNode() instanceof ScalarNode) {
            String v = string(key);
            return v == null ? List.of() : List.of(v);
        }
        if (!(t.getValueNode() instanceof SequenceNode seq)) {
            throw error(key, "must be a value or a list of values");
        }
        List<String> out = new ArrayList<>();
        for (Node n : seq.getValue()) {
            if (!(n instanceof ScalarNode s) || s.getValue() == null || s.getValue().isBlank()) {
                throw error(key, "must list plain values, one per '- ' line");
            }
            out.add(s.getValue().trim());
        }
        return out;
    }

    YamlSection section(String key) {
        NodeTuple t = entries.get(key);
        return t == null ? null : new YamlSection(file, child(key), t.getValueNode());
    }

    List<YamlSection> sections(String key) {
        NodeTuple t = entries.get(key);
        if (t == null) {
            return List.of();
        }
        if (!(t.getValueNode() instanceof SequenceNode seq)) {
            throw error(key, "must be a list (each item starting with '- ')");
        }
        List<YamlSection> out = new ArrayList<>();
        int i = 0;
        for (Node n : seq.getValue()) {
            out.add(new YamlSection(file, child(key) + "[" + i++ + "]", n));
        }
        return out;
    }
}
