"""The public index: one narrow row per published record, for the disclosure search.

The records table is wide (a decision carries its facts, basis, structured fields) and its rows sit in
the order they were recorded. The search orders by decision date and filters on a few columns only, so
it reads this table instead: a few hundred bytes per record, in the order records were published
(roughly the order of their decisions), which lets "the newest 20 matches" read a handful of pages.

Rows are kept by PostgreSQL triggers (migration 0001), not by application code: whatever changes a
record — a form, a file import, the sweep's set-based UPDATE — its index row follows in the same
transaction. A record is in the index exactly while it is published and standing."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models

from records.models import CreditRecord


class PublicIndexEntry(models.Model):
    record = models.OneToOneField(
        CreditRecord, primary_key=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    decision_date = models.DateField()
    item_id = models.BigIntegerField()
    department_id = models.BigIntegerField()
    division_id = models.CharField(max_length=6)
    search_vector = SearchVectorField()

    class Meta:
        # Written only by the database's triggers.
        managed = True
        default_permissions = ()
        indexes = [
            GinIndex(fields=["search_vector"], name="public_index_search_gin"),
            models.Index(fields=["-decision_date", "-record"], name="public_index_date_idx"),
            models.Index(fields=["department_id", "-decision_date"], name="public_index_department_idx"),
            models.Index(fields=["item_id", "-decision_date"], name="public_index_item_idx"),
            models.Index(fields=["division_id", "-decision_date"], name="public_index_division_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id}"
