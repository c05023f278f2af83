package io.lifeboat.catalog;

import com.fasterxml.jackson.annotation.JsonValue;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.Locale;

public enum BackupType {
    LOGICAL('L'),
    PHYSICAL('P');

    private final char letter;

    BackupType(char letter) {
        this.letter = letter;
    }

    public char letter() {
        return letter;
    }

    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static BackupType parse(String s) {
        for (BackupType t : values()) {
            if (t.id().equalsIgnoreCase(s)) {
                return t;
            }
        }
        throw new LifeboatException(ErrorKind.USAGE, "unknown backup type '" + s + "'", "use logical or physical");
    }

    static BackupType ofLetter(char c) {
        for (BackupType t : values()) {
            if (t.letter == c) {
                return t;
            }
        }
        throw new IllegalArgumentException("no backup type for '" + c + "'");
    }
}
