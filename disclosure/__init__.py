"""Guideline parts (3) credit reports and (15) disclosure within 7 working days: publication deadlines kept by Celery beat, the public disclosure search, verifiable credit reports."""
