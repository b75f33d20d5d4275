"""The labels of the pledges app's audit actions (``credit_portal.audit.labels``)."""

from django.utils.translation import gettext_lazy as _

from credit_portal.audit.labels import action_labels

action_labels.update(
    {
        "pledges.application.accepted": _("Permit application accepted"),
        "pledges.application.approved": _("Permit application approved"),
        "pledges.application.materials_complete": _("Application materials complete"),
        "pledges.application.rejected": _("Permit application refused"),
        "pledges.application.submitted": _("Permit application submitted"),
        "pledges.breach.answered": _("Defence stated against a breach notice"),
        "pledges.breach.defence_downloaded": _("Defence attachment downloaded"),
        "pledges.breach.dropped": _("Breach notice dropped"),
        "pledges.breach.noticed": _("Intended finding of a broken pledge notified"),
        "pledges.education.acknowledged": _("Compliance material acknowledged"),
        "pledges.education.saved": _("Compliance material saved"),
        "pledges.material.downloaded": _("Application material downloaded"),
        "pledges.material.supplied": _("Application material supplied"),
        "pledges.matter.changed": _("Pledge matter changed"),
        "pledges.matter.created": _("Pledge matter created"),
        "pledges.pledge.broken": _("Pledge found broken"),
        "pledges.pledge.fulfilled": _("Pledge kept"),
        "pledges.pledge.lapsed": _("Pledge lapsed"),
        "pledges.pledge.overdue": _("Pledge overdue"),
        "pledges.pledge.published": _("Public pledge made"),
        "pledges.pledge.signed": _("Pledge signed"),
        "pledges.remedy_rule.set": _("Remedies and restoration notice set"),
        "pledges.template.published": _("Pledge template published"),
    }
)
