from django.db import migrations

# The public index follows the records table through triggers, so that every way a record changes
# (forms, imports, the sweep's set-based UPDATEs, COPY) keeps it right in the same transaction.
SQL = """
CREATE OR REPLACE FUNCTION disclosure_index_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.disclosure = 'published' AND NEW.status IN ('effective', 'under_objection', 'corrected') THEN
    INSERT INTO disclosure_publicindexentry
           (record_id, decision_date, item_id, department_id, division_id, search_vector)
    SELECT NEW.id, NEW.decision_date, NEW.item_id, NEW.department_id, e.division_id, NEW.search_vector
      FROM records_marketentity e
     WHERE e.id = NEW.entity_id
    ON CONFLICT (record_id) DO UPDATE
       SET decision_date = EXCLUDED.decision_date,
           item_id = EXCLUDED.item_id,
           department_id = EXCLUDED.department_id,
           division_id = EXCLUDED.division_id,
           search_vector = EXCLUDED.search_vector;
  ELSIF TG_OP = 'UPDATE' THEN
    DELETE FROM disclosure_publicindexentry WHERE record_id = NEW.id;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER disclosure_index_record_insert
  AFTER INSERT ON records_creditrecord
  FOR EACH ROW WHEN (NEW.disclosure = 'published')
  EXECUTE FUNCTION disclosure_index_record();

CREATE TRIGGER disclosure_index_record_update
  AFTER UPDATE ON records_creditrecord
  FOR EACH ROW WHEN (
    OLD.disclosure IS DISTINCT FROM NEW.disclosure
    OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.search_vector IS DISTINCT FROM NEW.search_vector
    OR OLD.decision_date IS DISTINCT FROM NEW.decision_date
    OR OLD.item_id IS DISTINCT FROM NEW.item_id
    OR OLD.department_id IS DISTINCT FROM NEW.department_id
    OR OLD.entity_id IS DISTINCT FROM NEW.entity_id
  )
  EXECUTE FUNCTION disclosure_index_record();

CREATE OR REPLACE FUNCTION disclosure_index_entity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE disclosure_publicindexentry p
     SET division_id = NEW.division_id
    FROM records_creditrecord r
   WHERE r.entity_id = NEW.id AND p.record_id = r.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER disclosure_index_entity_division
  AFTER UPDATE ON records_marketentity
  FOR EACH ROW WHEN (OLD.division_id IS DISTINCT FROM NEW.division_id)
  EXECUTE FUNCTION disclosure_index_entity();

-- What is already published, in decision order (the order the search reads).
INSERT INTO disclosure_publicindexentry (record_id, decision_date, item_id, department_id, division_id, search_vector)
SELECT r.id, r.decision_date, r.item_id, r.department_id, e.division_id, r.search_vector
  FROM records_creditrecord r JOIN records_marketentity e ON e.id = r.entity_id
 WHERE r.disclosure = 'published' AND r.status IN ('effective', 'under_objection', 'corrected')
 ORDER BY r.decision_date, r.id;

"""

REVERSE = """
DROP TRIGGER IF EXISTS disclosure_index_entity_division ON records_marketentity;
DROP TRIGGER IF EXISTS disclosure_index_record_update ON records_creditrecord;
DROP TRIGGER IF EXISTS disclosure_index_record_insert ON records_creditrecord;
DROP FUNCTION IF EXISTS disclosure_index_entity();
DROP FUNCTION IF EXISTS disclosure_index_record();
DELETE FROM disclosure_publicindexentry;
"""


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0001_public_index")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
