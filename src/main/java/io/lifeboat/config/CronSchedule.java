package io.lifeboat.config;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.time.ZonedDateTime;
import java.util.Optional;

/**
 * A cron expression of five fields (minute hour day-of-month month day-of-week, as crontab(5)),
 * parsed by cron-utils; the parser throws on bad input.
 */
public final class CronSchedule {
    private static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private final String text;
    private final ExecutionTime times;

    private CronSchedule(String text, ExecutionTime times) {
        this.text = text;
        this.times = times;
    }

    public static CronSchedule parse(String text) {
        try {
            var cron = PARSER.parse(text.trim());
            cron.validate();
            return new CronSchedule(text.trim(), ExecutionTime.forCron(cron));
        } catch (RuntimeException e) {
            throw new LifeboatException(ErrorKind.CONFIG, "'" + text + "' is not a cron expression: " + e.getMessage(),
                    "write five fields: minute hour day-of-month month day-of-week, e.g. '0 3 * * *' (03:00 daily)");
        }
    }

    /** The first run strictly after {@code t}. */
    public Optional<ZonedDateTime> next(ZonedDateTime t) {
        return times.nextExecution(t);
    }

    /** The last run strictly before {@code t}. */
    public Optional<ZonedDateTime> previous(ZonedDateTime t) {
        return times.lastExecution(t);
    }

    @Override
    public String toString() {
        return text;
    }
}
