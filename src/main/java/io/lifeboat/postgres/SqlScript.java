package io.lifeboat.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The statements of a SQL script as pg_restore and pg_dumpall write it, split into tokens so that a
 * statement can be changed at one position (a database's name, a tablespace's location) without
 * touching what a string literal or a comment says. psql meta-commands (lines starting with a
 * backslash: {@code \connect}, {@code \restrict}) and comments are dropped.
 */
public final class SqlScript {
    private SqlScript() {
    }

    public enum Kind { WORD, QUOTED_IDENT, STRING, SYMBOL }

    /** One token; {@code text} is exactly as written. */
    public record Token(Kind kind, String text) {
        /** The identifier it names: unquoted words fold to lower case, quoted ones keep their case. */
        public String identifier() {
            return switch (kind) {
                case WORD -> text.toLowerCase(Locale.ROOT);
                case QUOTED_IDENT -> text.substring(1, text.length() - 1).replace("\"\"", "\"");
                default -> null;
            };
        }

        public boolean isWord(String w) {
            return kind == Kind.WORD && text.equalsIgnoreCase(w);
        }

        public boolean isIdentifier() {
            return kind == Kind.WORD || kind == Kind.QUOTED_IDENT;
        }

        /** The value of a string literal ('...', E'...'), or null for other tokens. */
        public String stringValue() {
            if (kind != Kind.STRING) {
                return null;
            }
            if (text.startsWith("$")) {
                int open = text.indexOf('$', 1) + 1;
                return text.substring(open, text.length() - open);
            }
            boolean escapes = text.charAt(0) == 'E' || text.charAt(0) == 'e';
            String body = text.substring(escapes ? 2 : 1, text.length() - 1);
            if (!escapes) {
                return body.replace("''", "'");
            }
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < body.length(); i++) {
                char c = body.charAt(i);
                if (c == '\\' && i + 1 < body.length()) {
                    char n = body.charAt(++i);
                    b.append(switch (n) {
                        case 'n' -> '\n';
                        case 't' -> '\t';
                        case 'r' -> '\r';
                        case 'b' -> '\b';
                        case 'f' -> '\f';
                        default -> n;
                    });
                } else if (c == '\'' && i + 1 < body.length() && body.charAt(i + 1) == '\'') {
                    b.append('\'');
                    i++;
                } else {
                    b.append(c);
                }
            }
            return b.toString();
        }
    }

    /**
     * A statement as written, without its terminating semicolon, and its tokens. A change replaces
     * the text of some tokens and keeps everything between them as it was.
     */
    public record Statement(String sql, List<Token> tokens, List<Integer> offsets) {
        public Statement {
            tokens = List.copyOf(tokens);
            offsets = List.copyOf(offsets);
        }

        /** Whether the statement begins with these words (case-insensitive). */
        public boolean startsWith(String... words) {
            if (tokens.size() < words.length) {
                return false;
            }
            for (int i = 0; i < words.length; i++) {
                if (!tokens.get(i).isWord(words[i])) {
                    return false;
                }
            }
            return true;
        }

        /** The statement with tokens [from, to) replaced by {@code text} (empty: removed). */
        public Statement replace(int from, int to, String text) {
            int a = offsets.get(from);
            int b = to < tokens.size() ? offsets.get(to) : sql.length();
            String tail = sql.substring(b);
            String joined = sql.substring(0, a) + text + (text.isEmpty() ? tail.stripLeading() : " " + tail.stripLeading());
            return parse(joined.strip()).get(0);
        }

        @Override
        public String toString() {
            return sql;
        }
    }

    /** Splits a script into statements; an unterminated last statement is kept. */
    public static List<Statement> parse(String script) {
        List<Statement> out = new ArrayList<>();
        List<Token> current = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        int i = 0;
        int n = script.length();
        while (i < n) {
            char c = script.charAt(i);
            int before = current.size();
            int at = i;
            if (c == '\\' && current.isEmpty()) {
                i = lineEnd(script, i);
            } else if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && script.charAt(i + 1) == '-') {
                i = lineEnd(script, i);
            } else if (c == '/' && i + 1 < n && script.charAt(i + 1) == '*') {
                i = blockCommentEnd(script, i);
            } else if (c == ';') {
                if (!current.isEmpty()) {
                    out.add(statement(script, current, offsets));
                    current = new ArrayList<>();
                    offsets = new ArrayList<>();
                }
                i++;
            } else if (c == '\'') {
                int end = quotedEnd(script, i, '\'', false);
                current.add(new Token(Kind.STRING, script.substring(i, end)));
                i = end;
            } else if ((c == 'E' || c == 'e') && i + 1 < n && script.charAt(i + 1) == '\'') {
                int end = quotedEnd(script, i + 1, '\'', true);
                current.add(new Token(Kind.STRING, script.substring(i, end)));
                i = end;
            } else if (c == '"') {
                int end = quotedEnd(script, i, '"', false);
                current.add(new Token(Kind.QUOTED_IDENT, script.substring(i, end)));
                i = end;
            } else if (c == '$' && dollarTag(script, i) != null) {
                String tag = dollarTag(script, i);
                int close = script.indexOf(tag, i + tag.length());
                int end = close < 0 ? n : close + tag.length();
                current.add(new Token(Kind.STRING, script.substring(i, end)));
                i = end;
            } else if (Character.isLetter(c) || c == '_' || c >= 0x80) {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(script.charAt(j)) || script.charAt(j) == '_'
                        || script.charAt(j) == '$' || script.charAt(j) >= 0x80)) {
                    j++;
                }
                current.add(new Token(Kind.WORD, script.substring(i, j)));
                i = j;
            } else if (Character.isDigit(c)) {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(script.charAt(j)) || script.charAt(j) == '.')) {
                    j++;
                }
                current.add(new Token(Kind.SYMBOL, script.substring(i, j)));
                i = j;
            } else {
                current.add(new Token(Kind.SYMBOL, String.valueOf(c)));
                i++;
            }
            if (current.size() > before) {
                offsets.add(at);
            }
        }
        if (!current.isEmpty()) {
            out.add(statement(script, current, offsets));
        }
        return out;
    }

    private static Statement statement(String script, List<Token> tokens, List<Integer> absolute) {
        int from = absolute.get(0);
        Token last = tokens.get(tokens.size() - 1);
        int to = absolute.get(absolute.size() - 1) + last.text().length();
        return new Statement(script.substring(from, to), tokens, absolute.stream().map(o -> o - from).toList());
    }

    private static int lineEnd(String s, int i) {
        int nl = s.indexOf('\n', i);
        return nl < 0 ? s.length() : nl + 1;
    }

    private static int blockCommentEnd(String s, int i) {
        int depth = 0;
        int j = i;
        while (j < s.length()) {
            if (s.startsWith("/*", j)) {
                depth++;
                j += 2;
            } else if (s.startsWith("*/", j)) {
                depth--;
                j += 2;
                if (depth == 0) {
                    return j;
                }
            } else {
                j++;
            }
        }
        return s.length();
    }

    /** The index after the closing quote; a doubled quote is part of the text, as is \' with backslash escapes. */
    private static int quotedEnd(String s, int open, char quote, boolean backslashEscapes) {
        int j = open + 1;
        while (j < s.length()) {
            char c = s.charAt(j);
            if (backslashEscapes && c == '\\') {
                j += 2;
                continue;
            }
            if (c == quote) {
                if (j + 1 < s.length() && s.charAt(j + 1) == quote) {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j++;
        }
        return s.length();
    }

    /** "$tag$" or "$$" starting at i, or null when the dollar sign starts no dollar quote (e.g. $1). */
    private static String dollarTag(String s, int i) {
        int j = i + 1;
        while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
            if (j == i + 1 && Character.isDigit(s.charAt(j))) {
                return null;
            }
            j++;
        }
        return j < s.length() && s.charAt(j) == '$' ? s.substring(i, j + 1) : null;
    }
}
