package io.lifeboat.agent.http.dashboard;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DashboardModelTest {
    static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    @Test
    void thirtyDaysOfLagSamplesAreThinnedToTheirPeaks() {
        Instant from = NOW.minus(DashboardModel.CHART_SPAN);
        List<DashboardModel.Point> samples = new ArrayList<>();
        for (Instant t = from.plusSeconds(30); !t.isAfter(NOW); t = t.plusSeconds(30)) { // a sample per refresh
            samples.add(new DashboardModel.Point(t, t.equals(NOW.minus(Duration.ofDays(3)).plusSeconds(30)) ? 900 : 1,
                    "x"));
        }
        assertThat(samples).hasSize(86_400);
        List<DashboardModel.Point> shown = DashboardModel.thin(samples, from, NOW);
        assertThat(shown).hasSize(DashboardModel.CHART_POINTS);
        assertThat(shown).isSortedAccordingTo(Comparator.comparing(DashboardModel.Point::time));
        assertThat(shown).filteredOn(p -> p.value() == 900).singleElement()
                .extracting(DashboardModel.Point::time).isEqualTo(NOW.minus(Duration.ofDays(3)).plusSeconds(30));
        // a short series is shown as it is
        List<DashboardModel.Point> few = samples.subList(0, 100);
        assertThat(DashboardModel.thin(few, from, NOW)).isSameAs(few);
    }
}
