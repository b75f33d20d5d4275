"""The catalogue item for broken pledges: negative, by severity, public. A broken pledge used to be
filed under the neutral item "credit pledges and their performance", with no disclosure period and
no way to restoration; this sibling item carries both. Databases seeded after this change get it
from 0003 already; the credit office's later edits are kept either way."""

from django.db import migrations

CODE = "pledge_breach"


def add_item(apps, schema_editor):
    CatalogueItem = apps.get_model("records", "CatalogueItem")
    sibling = CatalogueItem.objects.filter(code="pledge_performance").first()
    CatalogueItem.objects.get_or_create(
        code=CODE,
        defaults={
            "name_zh": "信用承诺及履行情况信息（违背承诺）",
            "name_en": "Credit pledges and their performance: breaches",
            "category": "performance",
            "polarity": "negative",
            "use_scope": "public",
            "layout": "generic",
            "period_kind": "severity",
            "fixed_months": None,
            "fields": [],
            "sort_order": (sibling.sort_order + 5) if sibling else 175,
        },
    )


def remove_item(apps, schema_editor):
    CatalogueItem = apps.get_model("records", "CatalogueItem")
    CreditRecord = apps.get_model("records", "CreditRecord")
    if not CreditRecord.objects.filter(item__code=CODE).exists():
        CatalogueItem.objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("records", "0010_search_and_sweep_indexes")]

    operations = [migrations.RunPython(add_item, remove_item)]
