from django.db import migrations

# The search leaves the choice between walking the date index (a common query) and reading the GIN
# index (a rare one) to the planner; it chooses well only when it knows how common each token is.
# A statistics target of 1000 keeps the frequencies of the 10,000 most common tokens (names share a
# few thousand bigrams), sampled from 300,000 rows.
SQL = """
ALTER TABLE disclosure_publicindexentry ALTER COLUMN search_vector SET STATISTICS 1000;
ALTER TABLE records_marketentity ALTER COLUMN search_vector SET STATISTICS 1000;
ANALYZE disclosure_publicindexentry;
ANALYZE records_marketentity;
"""
REVERSE = """
ALTER TABLE disclosure_publicindexentry ALTER COLUMN search_vector SET STATISTICS -1;
ALTER TABLE records_marketentity ALTER COLUMN search_vector SET STATISTICS -1;
"""


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0004_credit_reports"), ("records", "0010_search_and_sweep_indexes")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
