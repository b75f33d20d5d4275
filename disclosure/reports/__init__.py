"""Credit reports (guideline part 3): the portal's standard report on one entity — a canonical JSON
document and a PDF rendered from it, numbered and verifiable at ``/verify/<number>`` — and the
registered third-party reports shown beside it.

- ``numbers``: report numbers (with a check character, so a mistyped or tampered one is refused).
- ``selectors``: the reads (what a report contains, who may see which report).
- ``document``: the pure builder of the canonical JSON document and its SHA-256 fingerprint.
- ``schema``: the document's JSON Schema (``docs/credit-report.schema.json``).
- ``render``: the pure HTML rendering of a document, and WeasyPrint turning it into PDF bytes.
- ``qr``: the QR code (an inline PNG) pointing to the verification page.
- ``services``: requesting, rendering, downloading, verifying (the JSON document, the PDF file);
  third-party reports.
- ``verification``: what the public verification page shows of a report as issued.
- ``agencies``: registering credit service agencies (the credit office).
"""
