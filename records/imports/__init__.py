"""The bulk-file door for credit records: CSV and XLSX files in the national field layout of one
catalogue item, parsed as a stream (``parsing``), imported by a Celery task in batches through
``records.services.records_import`` (``runner``), with downloadable file templates (``templates``)."""
