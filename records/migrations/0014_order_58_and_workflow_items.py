from datetime import date

from django.db import migrations

from records import catalogue_data as data

OLD_2019_BASIS = "2019年行政处罚信息信用修复规则"


def forward(apps, schema_editor):
    """NDRC Order 58's periods between the 2019 rule and Order 36, the 2019 rule cited by its
    document number, and the items only their workflow writes. Rows the credit office has edited
    are left as they are."""
    CatalogueItem = apps.get_model("records", "CatalogueItem")
    DisclosurePeriodRule = apps.get_model("records", "DisclosurePeriodRule")
    CatalogueItem.objects.filter(code__in=data.WORKFLOW_ONLY).update(workflow_only=True)
    for effective, severity, lo, hi, published, restorable, basis_zh, basis_en in data.PERIOD_RULES:
        DisclosurePeriodRule.objects.get_or_create(
            effective_from=date.fromisoformat(effective),
            severity=severity,
            defaults={
                "min_months": lo,
                "max_months": hi,
                "published_by_default": published,
                "restorable": restorable,
                "basis_zh": basis_zh,
                "basis_en": basis_en,
            },
        )
    DisclosurePeriodRule.objects.filter(effective_from=date(2019, 1, 1), basis_zh=OLD_2019_BASIS).update(
        basis_zh=data.RULE_2019_ZH, basis_en=data.RULE_2019_EN
    )


def backward(apps, schema_editor):
    DisclosurePeriodRule = apps.get_model("records", "DisclosurePeriodRule")
    DisclosurePeriodRule.objects.filter(effective_from=date(2023, 5, 1), basis_zh=data.ORDER_58_ZH).delete()


class Migration(migrations.Migration):
    dependencies = [("records", "0013_proposals_workflow_items_import_drafts")]

    operations = [migrations.RunPython(forward, backward)]
