"""The text indexes of records and entities keep a pending list of at most 64 kB: every search reads
the whole pending list first (see disclosure migration 0006). Set on the existing indexes, no
rebuild; the migration state records it as the indexes' parameter."""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations


def _short(model_name: str, index_name: str) -> migrations.SeparateDatabaseAndState:
    return migrations.SeparateDatabaseAndState(
        database_operations=[
            migrations.RunSQL(
                f"ALTER INDEX {index_name} SET (gin_pending_list_limit = 64)",
                f"ALTER INDEX {index_name} RESET (gin_pending_list_limit)",
            )
        ],
        state_operations=[
            migrations.RemoveIndex(model_name=model_name, name=index_name),
            migrations.AddIndex(
                model_name=model_name,
                index=GinIndex(fields=["search_vector"], name=index_name, gin_pending_list_limit=64),
            ),
        ],
    )


class Migration(migrations.Migration):
    dependencies = [("records", "0011_pledge_breach_item")]

    operations = [
        _short("creditrecord", "record_search_gin"),
        _short("marketentity", "entity_search_gin"),
    ]
