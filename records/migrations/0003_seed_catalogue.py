from datetime import date

from django.db import migrations

from records import catalogue_data as data


def load(apps, schema_editor):
    """Seed the catalogue and the period rules once; later edits by the credit office are kept."""
    CatalogueItem = apps.get_model("records", "CatalogueItem")
    DisclosurePeriodRule = apps.get_model("records", "DisclosurePeriodRule")
    for order, (code, zh, en, category, polarity, scope, layout, period, months) in enumerate(data.CATALOGUE):
        CatalogueItem.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "category": category,
                "polarity": polarity,
                "use_scope": scope,
                "layout": layout,
                "period_kind": period,
                "fixed_months": months,
                "fields": data.FIELDS_BY_LAYOUT[layout],
                "sort_order": (order + 1) * 10,
            },
        )
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


class Migration(migrations.Migration):
    dependencies = [("records", "0002_catalogue_records_feedback")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
