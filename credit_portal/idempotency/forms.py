"""One-time submission keys in the web doors' forms (see ``services``).

A form declares ``submission_key = SubmissionKeyField("public.complaint")``: a hidden field with a
fresh key each time the page is shown (``includes/form.html`` renders hidden fields). The view
reads the key back with ``posted_key``, files through ``services.submit_once``, remembers the key
in the session (``remember``) and redirects with 303 See Other (``see_other``) to a result page
that finds the result through the session (``remembered``): reloading that page shows it again and
files nothing, and another browser that opens its address sees nothing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from credit_portal.idempotency import services

FIELD = "submission_key"
SESSION_KEY = "idempotency.submitted"

KEY_REFUSED = _(
    "This form was open for too long, or comes from an old page, so it was not sent. "
    "Check what you entered and send it again."
)


class SubmissionKeyField(forms.CharField):
    """The hidden one-time key of a form, a fresh one each time the page is shown. Not required
    at field level: a missing or expired key is the view's to explain (``renew``), not a hidden
    field's error."""

    def __init__(self, form_name: str, **kwargs: Any):
        self.form_name = form_name
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(required=False, initial=lambda: services.submission_key_issue(form_name), **kwargs)


def _field(form: forms.Form) -> SubmissionKeyField:
    field = form.fields[FIELD]
    if not isinstance(field, SubmissionKeyField):
        raise TypeError(f"{type(form).__name__} has no submission key")
    return field


def posted_key(form: forms.Form) -> services.SubmissionKey | None:
    """The key the bound ``form`` was sent with, if it is valid for this form."""
    return services.submission_key_read(_field(form).form_name, form.data.get(FIELD))


def renew(form: forms.Form) -> None:
    """The key was missing, made up or expired: nothing is filed; the form is shown again with
    what was entered, a fresh key and a message saying to send it again."""
    form.data = form.data.copy()
    form.data[FIELD] = services.submission_key_issue(_field(form).form_name)
    form.add_error(None, KEY_REFUSED)


def cleaned(form: forms.Form) -> dict[str, Any]:
    """The form's cleaned data without its key (what the service takes)."""
    return {name: value for name, value in form.cleaned_data.items() if name != FIELD}


def remember(request, key: services.SubmissionKey) -> None:
    """This session sent ``key``: its result page may show what the key filed."""
    submitted = dict(request.session.get(SESSION_KEY) or {})
    submitted[key.form] = key.digest
    request.session[SESSION_KEY] = submitted


def remembered(request, form_name: str) -> int | None:
    """What this session's latest submission of ``form_name`` filed, within the window."""
    digest = (request.session.get(SESSION_KEY) or {}).get(form_name)
    if not isinstance(digest, str):
        return None
    return services.submission_result(services.SubmissionKey(form=form_name, digest=digest))


class HttpResponseSeeOther(HttpResponseRedirect):
    """303: after a POST, GET the page named (a reload then repeats the GET, never the POST)."""

    status_code = 303


def see_other(url: str) -> HttpResponseSeeOther:
    return HttpResponseSeeOther(url)
