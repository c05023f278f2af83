package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * What Lifeboat reads from a data directory's global/pg_control without a server: the system
 * identifier in its first eight bytes (little-endian, as PostgreSQL writes it on the machines it
 * runs on here), which says which cluster a directory belongs to.
 */
public final class ControlFile {
    public static final String PATH = "global/pg_control";

    private ControlFile() {
    }

    /** The system identifier (unsigned decimal, as pg_controldata prints it) of the cluster in {@code dataDir}. */
    public static String systemIdentifier(Path dataDir) {
        return systemIdentifierOf(dataDir.resolve(PATH));
    }

    /** The system identifier recorded in a pg_control file. */
    public static String systemIdentifierOf(Path controlFile) {
        byte[] head = new byte[8];
        try (InputStream in = Files.newInputStream(controlFile)) {
            if (in.readNBytes(head, 0, 8) < 8) {
                throw new LifeboatException(ErrorKind.CONFLICT, controlFile + " is too short to be a control file",
                        "is this a PostgreSQL data directory?");
            }
        } catch (NoSuchFileException e) {
            throw new LifeboatException(ErrorKind.CONFLICT, "there is no " + controlFile,
                    "is this a PostgreSQL data directory?", e);
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot read " + controlFile + ": " + e.getMessage(),
                    "check its permissions (run as the server's OS user or root)", e);
        }
        return Long.toUnsignedString(ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }
}
