package io.lifeboat.agent.http.dashboard;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * A small HTML writer: every text and attribute value goes through {@link #esc}, so nothing from
 * the repository or the configuration can become markup. Markup is added only with {@link #raw}
 * from the page code itself.
 */
final class Html {
    private final StringBuilder sb = new StringBuilder(8192);

    static String esc(Object value) {
        String s = value == null ? "" : value.toString();
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** A path segment or query value. */
    static String url(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    Html raw(String markup) {
        sb.append(markup);
        return this;
    }

    Html text(Object value) {
        sb.append(esc(value));
        return this;
    }

    /** {@code <tag class="cls">text</tag>} */
    Html el(String tag, String cls, Object text) {
        sb.append('<').append(tag);
        if (cls != null) {
            sb.append(" class=\"").append(esc(cls)).append('"');
        }
        sb.append('>').append(esc(text)).append("</").append(tag).append('>');
        return this;
    }

    /** {@code <tag a="v" ...>} with escaped values; attrs alternate names and values. */
    Html open(String tag, String... attrs) {
        sb.append('<').append(tag);
        for (int i = 0; i + 1 < attrs.length; i += 2) {
            if (attrs[i + 1] != null) {
                sb.append(' ').append(attrs[i]).append("=\"").append(esc(attrs[i + 1])).append('"');
            }
        }
        sb.append('>');
        return this;
    }

    Html close(String tag) {
        sb.append("</").append(tag).append('>');
        return this;
    }

    /** A table row of texts. */
    Html row(Object... cells) {
        sb.append("<tr>");
        for (Object c : cells) {
            sb.append("<td>").append(esc(c)).append("</td>");
        }
        sb.append("</tr>");
        return this;
    }

    Html headers(String... names) {
        sb.append("<tr>");
        for (String n : names) {
            sb.append("<th>").append(esc(n)).append("</th>");
        }
        sb.append("</tr>");
        return this;
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
