"""Credit reports keep the SHA-256 of their PDF's bytes, so that the verification page can tell
whether an uploaded file is the PDF that was issued. Reports issued before get it computed from
their stored file; where that file is missing it stays empty, and the page says the check is
unavailable for that report (a hash computed from anything else would vouch for nothing)."""

import hashlib

from django.db import migrations, models

CHUNK = 1024 * 1024


def fill_pdf_sha256(apps, schema_editor):
    CreditReport = apps.get_model("disclosure", "CreditReport")
    pending = (
        CreditReport.objects.using(schema_editor.connection.alias)
        .filter(status="ready", pdf_sha256="")
        .exclude(pdf="")
        .only("pk", "pdf")
    )
    for report in pending.iterator(chunk_size=500):
        digest = hashlib.sha256()
        try:
            with report.pdf.open("rb") as handle:
                for chunk in iter(lambda h=handle: h.read(CHUNK), b""):
                    digest.update(chunk)
        except OSError:  # the file is gone: no fingerprint rather than a wrong one
            continue
        CreditReport.objects.using(schema_editor.connection.alias).filter(pk=report.pk).update(
            pdf_sha256=digest.hexdigest()
        )


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0007_public_index_vacuum_early")]

    operations = [
        migrations.AddField(
            model_name="creditreport",
            name="pdf_sha256",
            field=models.CharField(blank=True, max_length=64, verbose_name="SHA-256 of the PDF"),
        ),
        migrations.RunPython(fill_pdf_sha256, migrations.RunPython.noop, elidable=True),
    ]
