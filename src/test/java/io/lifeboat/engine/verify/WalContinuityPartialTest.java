package io.lifeboat.engine.verify;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The agent's partial segments: the end of the archive, never a gap. */
class WalContinuityPartialTest {
    @Test
    void aTrailingPartialIsNotedAndIsNoGap() {
        List<String> names = new ArrayList<>(WalContinuityTest.segs(1, 3, 8));
        names.add(WalContinuityTest.seg(1, 9) + ".partial");
        WalContinuity.Result r = WalContinuity.check(WalContinuityTest.backup(3, 4), names, Map.of());
        assertThat(r.ok()).isTrue();
        assertThat(r.newest().toString()).isEqualTo(WalContinuityTest.seg(1, 8));
        assertThat(r.notes()).anyMatch(n -> n.contains("partial segment " + WalContinuityTest.seg(1, 9)));
    }

    @Test
    void aPartialDoesNotHideAGap() {
        List<String> names = new ArrayList<>(WalContinuityTest.segs(1, 3, 5));
        names.add(WalContinuityTest.seg(1, 6) + ".partial");
        names.addAll(WalContinuityTest.segs(1, 7, 8));
        WalContinuity.Result r = WalContinuity.check(WalContinuityTest.backup(3, 4), names, Map.of());
        assertThat(r.ok()).isFalse();
        assertThat(r.gaps()).singleElement().satisfies(g -> assertThat(g.names()).isEqualTo(WalContinuityTest.seg(1, 6)));
    }
}
