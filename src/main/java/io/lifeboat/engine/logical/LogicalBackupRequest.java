package io.lifeboat.engine.logical;

import java.util.List;

/**
 * What to dump.
 *
 * @param databases      databases to dump; empty means the cluster's configured database
 * @param allDatabases   dump every database that accepts connections (overrides databases)
 * @param globals        also store roles and tablespaces (pg_dumpall --globals-only)
 * @param jobs           pg_dump -j and parallel uploads
 * @param checkSpace     refuse to start when the spool filesystem looks too small
 * @param dumpCompression what pg_dump itself compresses with (see {@link DumpCompression})
 */
public record LogicalBackupRequest(List<String> databases, boolean allDatabases, boolean globals, int jobs,
                                   boolean checkSpace, DumpCompression dumpCompression) {
}
