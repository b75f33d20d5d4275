"""The SQL side of the working-day index: its table (the model is unmanaged, see ``WorkdayIndex``),
the two functions documented in ``workdays.services``, and a first build of the table, so that a
fresh database can compute deadlines in SQL at once.

Both functions are plpgsql so that they can refuse loudly: a date outside the index raises
SQLSTATE 22008 (datetime_field_overflow, Django's DataError) instead of yielding NULL. STRICT: a
NULL argument gives NULL without a look-up. PARALLEL SAFE: they only read."""

from django.db import migrations

CREATE = r"""
CREATE TABLE workdays_workdayindex (
    date date PRIMARY KEY,
    is_working boolean NOT NULL,
    ordinal integer NOT NULL
);
-- The look-up of cp_add_working_days: exactly one working day per ordinal.
CREATE UNIQUE INDEX workdays_workdayindex_working_ordinal ON workdays_workdayindex (ordinal) WHERE is_working;

CREATE OR REPLACE FUNCTION cp_workday_index_out_of_range(caller text, d date) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    first_day date;
    last_day date;
BEGIN
    SELECT min(date), max(date) INTO first_day, last_day FROM workdays_workdayindex;
    IF first_day IS NULL THEN
        RAISE EXCEPTION '%: the working-day index is empty', caller
            USING ERRCODE = 'datetime_field_overflow',
                  HINT = 'Run manage.py rebuild_workday_index.';
    END IF;
    RAISE EXCEPTION '%: % is outside the working-day index (% to %)', caller, d, first_day, last_day
        USING ERRCODE = 'datetime_field_overflow',
              HINT = 'The index ends two years after the latest year with an official calendar; '
                     'record the holiday notice of a later year to extend it.';
END;
$$;

CREATE OR REPLACE FUNCTION cp_add_working_days(d date, n integer) RETURNS date
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    start_ordinal integer;
    result date;
BEGIN
    IF n < 0 THEN
        RAISE EXCEPTION 'cp_add_working_days: n must not be negative (got %)', n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT ordinal INTO start_ordinal FROM workdays_workdayindex WHERE date = d;
    IF NOT FOUND THEN
        PERFORM cp_workday_index_out_of_range('cp_add_working_days', d);
    END IF;
    IF n = 0 THEN
        RETURN d;
    END IF;
    SELECT date INTO result FROM workdays_workdayindex WHERE is_working AND ordinal = start_ordinal + n;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'cp_add_working_days: the %th working day after % is beyond the working-day index (ends %)',
            n, d, (SELECT max(date) FROM workdays_workdayindex)
            USING ERRCODE = 'datetime_field_overflow',
                  HINT = 'The index ends two years after the latest year with an official calendar; '
                         'record the holiday notice of a later year to extend it.';
    END IF;
    RETURN result;
END;
$$;

CREATE OR REPLACE FUNCTION cp_working_days_between(a date, b date) RETURNS integer
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    ordinal_a integer;
    ordinal_b integer;
BEGIN
    SELECT ordinal INTO ordinal_a FROM workdays_workdayindex WHERE date = a;
    IF NOT FOUND THEN
        PERFORM cp_workday_index_out_of_range('cp_working_days_between', a);
    END IF;
    SELECT ordinal INTO ordinal_b FROM workdays_workdayindex WHERE date = b;
    IF NOT FOUND THEN
        PERFORM cp_workday_index_out_of_range('cp_working_days_between', b);
    END IF;
    -- b <= a gives ordinal_b <= ordinal_a: 0, as in Python.
    RETURN greatest(ordinal_b - ordinal_a, 0);
END;
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS cp_working_days_between(date, date);
DROP FUNCTION IF EXISTS cp_add_working_days(date, integer);
DROP FUNCTION IF EXISTS cp_workday_index_out_of_range(text, date);
DROP TABLE IF EXISTS workdays_workdayindex;
"""


def build_index(apps, schema_editor):
    # The calendar class and the writer are plain code over plain data: feed them the historical
    # models' rows, so that the migration builds exactly what rebuild_index() would.
    from credit_portal.workdays.services import WorkingCalendar, write_index

    CalendarDay = apps.get_model("workdays", "CalendarDay")
    HolidayNotice = apps.get_model("workdays", "HolidayNotice")
    overrides = {d: kind == "workday" for d, kind in CalendarDay.objects.values_list("date", "kind")}
    years = frozenset(HolidayNotice.objects.values_list("year", flat=True))
    with schema_editor.connection.cursor() as cursor:
        write_index(cursor, WorkingCalendar(overrides, years))


class Migration(migrations.Migration):
    dependencies = [
        ("workdays", "0002_workday_index_deadline_rules"),
    ]

    operations = [
        migrations.RunSQL(CREATE, DROP),
        migrations.RunPython(build_index, migrations.RunPython.noop),
    ]
