"""What each audit action is called on a page: a readable label per action code, in the reader's
language (the code itself stays the record's vocabulary and is shown as a tooltip).

The registry is filled by each app for its own actions (``action_labels.update({...})`` in its
``AppConfig.ready``), so the core does not learn the stage apps' vocabulary. Every action code the
code base writes has a label: ``tests/test_one_language.py`` reads every ``audit.log(action=...)``
of the tree and fails on a code without one. A code written before its label existed (or by a newer
version) is shown as the code."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from credit_portal.i18n import interpolate

# Actions the admin site writes: ``admin.<app label>.<model name>.<added|changed|deleted>``.
_ADMIN_VERBS = {
    "added": _("Added in the admin site: %(model)s"),
    "changed": _("Changed in the admin site: %(model)s"),
    "deleted": _("Deleted in the admin site: %(model)s"),
}


class ActionLabels:
    def __init__(self) -> None:
        self._labels: dict[str, Any] = {}

    def update(self, labels: dict[str, Any]) -> None:
        self._labels.update(labels)

    def __contains__(self, code: str) -> bool:
        return code in self._labels or self._admin(code) is not None

    def codes(self) -> list[str]:
        return sorted(self._labels)

    def label(self, code: str) -> Any:
        """The label of ``code`` (a lazy translation), or the code when it has none."""
        if code in self._labels:
            return self._labels[code]
        return self._admin(code) or code

    @staticmethod
    def _admin(code: str) -> Any:
        parts = code.split(".")
        if len(parts) != 4 or parts[0] != "admin" or parts[3] not in _ADMIN_VERBS:
            return None
        from django.apps import apps

        try:
            model = apps.get_model(parts[1], parts[2])
        except LookupError:
            return None
        return interpolate(_ADMIN_VERBS[parts[3]], {"model": model._meta.verbose_name})


action_labels = ActionLabels()

action_labels.update(
    {
        "accounts.department.created": _("Department created"),
        "accounts.entity_user.signed_up": _("Business account opened"),
        "accounts.password.reset": _("Password reset"),
        "accounts.signin.locked_out": _("Sign-in locked"),
        "accounts.signin.lockout_lifted": _("Sign-in lockout lifted"),
        "accounts.staff.created": _("Staff account created"),
        "accounts.token.issued": _("API token issued"),
        "accounts.token.revoked": _("API token revoked"),
        "audit.chain.keyed": _("Audit trail chained with its key"),
        "notices.sent": _("Notices sent"),
        "workdays.day.removed": _("Calendar day removed"),
        "workdays.day.set": _("Calendar day set"),
        "workdays.deadline_rule.set": _("Deadline rule set"),
        "workdays.notice.recorded": _("Holiday notice recorded"),
    }
)
