package io.lifeboat.catalog;

import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackupIdTest {
    @Test
    void formatsAndParses() {
        BackupId id = BackupId.of(Instant.parse("2026-11-24T22:05:12.345Z"), BackupType.PHYSICAL);
        assertThat(id.toString()).isEqualTo("20261124T220512Z-P");
        assertThat(BackupId.parse("20261124T220512Z-P")).isEqualTo(id);
        assertThat(BackupId.parse("20261124T220512Z-L").type()).isEqualTo(BackupType.LOGICAL);
    }

    @Test
    void sortsByTime() {
        BackupId a = BackupId.parse("20261124T220512Z-P");
        BackupId b = BackupId.parse("20261124T220513Z-L");
        assertThat(a).isLessThan(b);
    }

    @Test
    void rejectsMalformed() {
        for (String bad : new String[] {"", "20261124T220512Z", "20261124T220512Z-X", "20261324T220512Z-P", "x/../y"}) {
            assertThatThrownBy(() -> BackupId.parse(bad)).isInstanceOf(LifeboatException.class);
        }
    }
}
