"""The disclosure board (staff) and the on-time rates (staff and public).

The board shows, for the staff member's department (the credit office: every department, or one
chosen), the records due today, due within one working day, overdue, published late and withdrawn
after revocation. The on-time rate of each department, per month of the due date (every record
that was due, published or not: see ``selectors.on_time_rows``), is drawn as an inline SVG chart
with the same numbers in tables and as CSV."""

from __future__ import annotations

import csv
from datetime import date

from django import forms
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from credit_portal.accounts.actors import PUBLIC, Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.csvsafe import safe_row
from credit_portal.i18n import punctuation
from credit_portal.web.decorators import staff_required
from disclosure import charts, selectors
from disclosure.selectors import OnTimeTable, Period

PAGE_SIZE = 50
PUBLIC_CACHE_SECONDS = 10 * 60
# Keyed by the day too: what counts (the due dates already passed) changes at midnight.
PUBLIC_CACHE_KEY = "disclosure:on-time:v2:{month}:{today}"
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]
FIRST_MONTH, LAST_MONTH = date(2000, 1, 1), date(2099, 12, 1)


def current_date() -> date:
    """Today, local time. One place, so that tests can set the board's clock."""
    return timezone.localdate()


# --- forms ---------------------------------------------------------------------------------------


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return f"{obj.code} · {obj.name}"


class _ScopeForm(forms.Form):
    """The department filter, offered to the credit office only."""

    department = DepartmentChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.order_by("code"),
        required=False,
        empty_label=gettext_lazy("All departments"),
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        if not actor.can(Cap.ALL_DEPARTMENTS):
            del self.fields["department"]

    def department_id(self) -> int | None:
        department = self.cleaned_data.get("department") if "department" in self.fields else None
        return department.pk if department is not None else None


class BoardForm(_ScopeForm):
    section = forms.ChoiceField(choices=selectors.SECTIONS, required=False, widget=forms.HiddenInput)
    since = forms.DateField(
        label=gettext_lazy("Published or withdrawn from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=gettext_lazy("to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_period = Period.default(today)

    def clean(self):
        data = super().clean()
        since = data.get("since") or self.default_period.since
        until = data.get("until") or self.default_period.until
        if since > until:
            raise forms.ValidationError(_("The period must not end before it starts."))
        data["period"] = Period(since, until)
        return data

    def chosen_period(self) -> Period:
        return self.cleaned_data.get("period") or self.default_period

    def chosen_section(self) -> str:
        return self.cleaned_data.get("section") or "overdue"


class OnTimeForm(_ScopeForm):
    until = forms.DateField(
        label=gettext_lazy("Up to the month of"),
        required=False,
        input_formats=MONTH_FORMATS,
        widget=forms.DateInput(attrs={"type": "month", "aria-describedby": "id_until-help"}, format="%Y-%m"),
        help_text=gettext_lazy(
            "The chart and the tables cover the records due in the 12 months ending with this one."
        ),
    )

    def clean_until(self):
        until = self.cleaned_data.get("until")
        if until is not None and not FIRST_MONTH <= until.replace(day=1) <= LAST_MONTH:
            raise forms.ValidationError(_("Choose a month between 2000 and 2099."))
        return until


def _cleaned(form: forms.Form) -> forms.Form:
    """Validate ``form``; on errors keep the valid fields (the page shows the errors and uses
    defaults for the rest)."""
    if not form.is_valid():
        form.cleaned_data = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    return form


# --- the board -----------------------------------------------------------------------------------


@staff_required(Cap.RECORDS_READ)
@require_GET
def board(request):
    actor = request.actor
    today = current_date()
    data = request.GET.copy()
    default = Period.default(today)
    # The period's fields show the default period when none was chosen.
    data.setdefault("since", default.since.isoformat())
    data.setdefault("until", default.until.isoformat())
    form = _cleaned(BoardForm(data, actor=actor, today=today))
    department_id, period, section = form.department_id(), form.chosen_period(), form.chosen_section()
    counts = selectors.board_counts(actor, today=today, period=period, department_id=department_id)
    rows = selectors.board_list(actor, section, today=today, period=period, department_id=department_id)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/disclosure/board.html",
        {
            "form": form,
            "today": today,
            "period": period,
            "section": section,
            "section_label": dict(selectors.SECTIONS)[section],
            "is_period_section": section in selectors.PERIOD_SECTIONS,
            "sections": [(key, label, counts[key]) for key, label in selectors.SECTIONS],
            "counts": counts,
            "page_obj": page,
            "all_departments": actor.can(Cap.ALL_DEPARTMENTS),
            "department": form.cleaned_data.get("department"),
        },
    )


# --- on-time rates -------------------------------------------------------------------------------


def _until(form: OnTimeForm, today: date) -> date:
    return (form.cleaned_data.get("until") or today).replace(day=1)


def _on_time_form(request, actor: Actor, today: date) -> OnTimeForm:
    """The on-time pages' form, its month picker showing the last month shown: this month when none
    was chosen (an empty picker would say that no month is shown)."""
    data = request.GET.copy()
    if not data.get("until"):
        data["until"] = today.strftime("%Y-%m")
    return _cleaned(OnTimeForm(data, actor=actor))


@staff_required(Cap.RECORDS_READ)
@require_GET
def on_time(request):
    actor = request.actor
    today = current_date()
    form = _on_time_form(request, actor, today)
    until = _until(form, today)
    rows = selectors.on_time_rows(until=until, today=today, department_id=form.department_id(), actor=actor)
    table = selectors.on_time_table(rows, until)
    return render(
        request,
        "staff/disclosure/on_time.html",
        {
            "form": form,
            **_chart_context(table, "on-time-chart"),
            "all_departments": actor.can(Cap.ALL_DEPARTMENTS),
            "department": form.cleaned_data.get("department"),
        },
    )


@staff_required(Cap.RECORDS_READ)
@require_GET
def on_time_csv(request):
    actor = request.actor
    form = _cleaned(OnTimeForm(request.GET, actor=actor))
    today = current_date()
    until = _until(form, today)
    rows = selectors.on_time_rows(until=until, today=today, department_id=form.department_id(), actor=actor)
    return _csv(selectors.on_time_table(rows, until))


def public_rows(until: date, today: date) -> list[dict]:
    """Every department's rates for the 12 months ending with ``until``'s month, as of ``today``,
    cached for ten minutes (the same for every visitor; names in both languages, chosen when
    shown)."""
    key = PUBLIC_CACHE_KEY.format(month=until.strftime("%Y-%m"), today=today.isoformat())
    rows = cache.get(key)
    if rows is None:
        rows = selectors.on_time_rows(until=until, today=today)
        cache.set(key, rows, PUBLIC_CACHE_SECONDS)
    return rows


@require_GET
def public_on_time(request):
    # No department filter on the public page: the public actor holds no capability.
    today = current_date()
    form = _on_time_form(request, PUBLIC, today)
    until = _until(form, today)
    table = selectors.on_time_table(public_rows(until, today), until)
    return render(
        request, "public/stats/on_time.html", {"form": form, **_chart_context(table, "on-time-chart")}
    )


@require_GET
def public_on_time_csv(request):
    form = _cleaned(OnTimeForm(request.GET, actor=PUBLIC))
    today = current_date()
    until = _until(form, today)
    return _csv(selectors.on_time_table(public_rows(until, today), until))


def _chart_context(table: OnTimeTable, chart_id: str) -> dict:
    labels = [m.strftime("%Y-%m") for m in table.months]
    first, last = labels[0], labels[-1]
    title = _("On-time publication rate by department, %(first)s to %(last)s") % {
        "first": first,
        "last": last,
    }
    if table.departments:
        totals = punctuation(";").join(
            _("%(department)s: %(percent)s (%(on_time)d/%(due)d on time, %(overdue)d overdue)")
            % {
                "department": d.name,
                "percent": _percent(d.total.percent),
                "on_time": d.total.on_time,
                "due": d.total.due,
                "overdue": d.total.overdue,
            }
            for d in table.departments
        )
        description = _(
            "Share of the records due each month that were published by their deadline, 7 working "
            "days after the decision, per department; records still not published count against "
            "the month they were due. Over the 12 months: %(totals)s. The tables below give every value."
        ) % {"totals": totals}
    else:
        description = _("No records were due in these 12 months.")
    series = [
        charts.Series(
            name=d.name,
            values=[c.percent if c else None for c in d.cells],
            notes=[_cell_note(c) if c else "" for c in d.cells],
        )
        for d in table.departments
    ]
    svg = charts.line_chart(
        chart_id=chart_id,
        title=title,
        description=description,
        labels=labels,
        series=series,
        x_title=_("Month due"),
        y_title=_("Published on time (%)"),
        empty_text=_("No records were due in these 12 months."),
    )
    return {
        "table": table,
        "month_labels": labels,
        "chart": svg,
        "chart_title": title,
        "csv_query": f"until={last}",
    }


def _cell_note(cell: selectors.Rate) -> str:
    values = {"on_time": cell.on_time, "due": cell.due, "overdue": cell.overdue}
    if cell.overdue:
        return _("%(on_time)d/%(due)d on time, %(overdue)d overdue") % values
    return _("%(on_time)d/%(due)d on time") % values


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _csv(table: OnTimeTable) -> HttpResponse:
    """One row per department and month due, like the table (a month with nothing due has a blank
    rate)."""
    first, last = table.first.strftime("%Y-%m"), table.last.strftime("%Y-%m")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="on-time-rates-{first}-{last}.csv"'
    response.write("\ufeff")  # so that spreadsheet programs read the Chinese names as UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Department code"),
            _("Department"),
            _("Month due"),
            _("Records due"),
            _("Published on time"),
            _("Published late"),
            _("Overdue, not yet published"),
            _("On-time rate (%)"),
        ]
    )
    for department in table.departments:
        for month, cell in zip(table.months, department.cells, strict=True):
            cell = cell or selectors.Rate(0, 0, 0)
            writer.writerow(
                safe_row(
                    [
                        department.code,
                        department.name,
                        month.strftime("%Y-%m"),
                        cell.due,
                        cell.on_time,
                        cell.late,
                        cell.overdue,
                        "" if cell.percent is None else f"{cell.percent:.1f}",
                    ]
                )
            )
    return response
