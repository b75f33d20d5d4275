"""The labels of the disclosure app's audit actions (``credit_portal.audit.labels``)."""

from django.utils.translation import gettext_lazy as _

from credit_portal.audit.labels import action_labels

action_labels.update(
    {
        "disclosure.agency.registered": _("Credit service agency registered"),
        "disclosure.agency.reinstated": _("Credit service agency reinstated"),
        "disclosure.agency.suspended": _("Credit service agency suspended"),
        "disclosure.records.ended": _("Disclosure periods ended"),
        "disclosure.records.published": _("Records published"),
        "disclosure.report.downloaded": _("Credit report downloaded"),
        "disclosure.report.failed": _("Credit report failed"),
        "disclosure.report.issued": _("Credit report issued"),
        "disclosure.report.requested": _("Credit report requested"),
        "disclosure.third_party_report.downloaded": _("Third-party credit report downloaded"),
        "disclosure.third_party_report.registered": _("Third-party credit report registered"),
        "disclosure.third_party_report.withdrawn": _("Third-party credit report withdrawn"),
    }
)
