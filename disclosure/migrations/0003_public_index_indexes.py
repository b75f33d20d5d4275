import django.contrib.postgres.indexes
from django.db import migrations, models


class Migration(migrations.Migration):
    """The indexes come after the backfill of 0002: building them once over the copied rows is far
    faster than maintaining them row by row during the copy."""

    dependencies = [("disclosure", "0002_public_index_triggers")]

    operations = [
        migrations.AddIndex(
            model_name="publicindexentry",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_vector"], name="public_index_search_gin"),
        ),
        migrations.AddIndex(
            model_name="publicindexentry",
            index=models.Index(fields=["-decision_date", "-record"], name="public_index_date_idx"),
        ),
        migrations.AddIndex(
            model_name="publicindexentry",
            index=models.Index(fields=["department_id", "-decision_date"], name="public_index_department_idx"),
        ),
        migrations.AddIndex(
            model_name="publicindexentry",
            index=models.Index(fields=["item_id", "-decision_date"], name="public_index_item_idx"),
        ),
        migrations.AddIndex(
            model_name="publicindexentry",
            index=models.Index(fields=["division_id", "-decision_date"], name="public_index_division_idx"),
        ),
        migrations.RunSQL("ANALYZE disclosure_publicindexentry", migrations.RunSQL.noop),
    ]
