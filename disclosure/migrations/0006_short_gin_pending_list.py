"""The public index's text index keeps a pending list of at most 64 kB.

A GIN index with fast update puts new entries in a pending list first and merges them later; every
search reads the whole pending list before the index proper. With the default limit of 4 MB, the
sweep's publications left about 430 pages there, and each search read them all: 5 ms for a rare
word. At 64 kB a search reads at most 8 pages of it, and writers merge it about every 150 rows.

The option is set on the existing index (no rebuild); only the migration state records it as the
index's parameter."""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

SQL = "ALTER INDEX public_index_search_gin SET (gin_pending_list_limit = 64)"
REVERSE = "ALTER INDEX public_index_search_gin RESET (gin_pending_list_limit)"


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0005_public_index_statistics")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(SQL, REVERSE)],
            state_operations=[
                migrations.RemoveIndex(model_name="publicindexentry", name="public_index_search_gin"),
                migrations.AddIndex(
                    model_name="publicindexentry",
                    index=GinIndex(
                        fields=["search_vector"], name="public_index_search_gin", gin_pending_list_limit=64
                    ),
                ),
            ],
        )
    ]
