"""The labels of the records app's audit actions (``credit_portal.audit.labels``)."""

from django.utils.translation import gettext_lazy as _

from credit_portal.audit.labels import action_labels

action_labels.update(
    {
        "records.association.member_added": _("Association member added"),
        "records.association.member_removed": _("Association member removed"),
        "records.association.registered": _("Industry association registered"),
        "records.association.updated": _("Industry association updated"),
        "records.catalogue.records_replanned": _("Disclosure of records replanned after a catalogue change"),
        "records.catalogue.updated": _("Catalogue item updated"),
        "records.claim.approved": _("Entity claim approved"),
        "records.claim.rejected": _("Entity claim rejected"),
        "records.claim.submitted": _("Entity claim submitted"),
        "records.claim.withdrawn": _("Entity claim withdrawn"),
        "records.complaint.answered": _("Complaint answered"),
        "records.complaint.contact_revealed": _("Complainant's contact viewed"),
        "records.complaint.submitted": _("Complaint submitted"),
        "records.complaint.transferred": _("Complaint transferred"),
        "records.entity.bulk_generated": _("Entities generated in bulk"),
        "records.entity.granted": _("Entity opened to a department"),
        "records.entity.person_ended": _("Person's role ended"),
        "records.entity.person_linked": _("Person linked to the entity"),
        "records.entity.registered": _("Entity registered"),
        "records.entity.updated": _("Entity updated"),
        "records.import.confirmed": _("Imported drafts confirmed"),
        "records.import.failed": _("File import failed"),
        "records.import.files_purged": _("Imported files deleted"),
        "records.import.finished": _("File import finished"),
        "records.import.queued": _("File queued for import"),
        "records.objection.contact_revealed": _("Objector's contact viewed"),
        "records.objection.rejected": _("Objection rejected"),
        "records.objection.submitted": _("Objection submitted"),
        "records.objection.upheld": _("Objection upheld"),
        "records.objection.withdrawn": _("Objection withdrawn"),
        "records.period_rule.added": _("Disclosure-period rule added"),
        "records.period_rules.records_replanned": _(
            "Disclosure of records replanned after a period rule change"
        ),
        "records.person.identity_viewed": _("Identity number viewed"),
        "records.proposal.confirmed": _("Proposed change confirmed"),
        "records.proposal.made": _("Change proposed"),
        "records.proposal.rejected": _("Proposed change rejected"),
        "records.proposal.withdrawn": _("Proposed change withdrawn"),
        "records.record.confirmed": _("Record confirmed"),
        "records.record.corrected": _("Record corrected"),
        "records.record.created": _("Record created"),
        "records.record.discarded": _("Draft record discarded"),
        "records.record.ended": _("Designation ended"),
        "records.record.imported": _("Records imported"),
        "records.record.restored": _("Credit restored"),
        "records.record.revoked": _("Record revoked"),
    }
)
