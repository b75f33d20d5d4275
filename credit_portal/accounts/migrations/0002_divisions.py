import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "divisions.csv"


def load(apps, schema_editor):
    """Province-level divisions and the cities and districts the demo uses. Further divisions are
    added in the admin (or by a later data migration) as departments join."""
    Division = apps.get_model("accounts", "Division")
    with DATA.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            Division.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name_zh": row["name_zh"],
                    "name_en": row["name_en"],
                    "level": row["level"],
                    "parent_id": row["parent"] or None,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
