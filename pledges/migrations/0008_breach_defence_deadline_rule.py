"""The deadline rule of the defence window before a breach of a credit pledge is found. Later
changes are entered by the credit office on the calendar page (audited), not by migrations."""

from datetime import date

from django.db import migrations

KEY = "pledges.breach_defence"
DAYS = 5
# The obligation is stated; the number is the portal's default and cites no provision, for the
# credit office to confirm against the rule that applies to it (as for the other uncited rules).
BASIS_ZH = (
    "认定违背信用承诺前，应当告知当事人拟认定的事实、理由、依据（包括承诺书载明的违诺后果）及其享有的"
    "陈述、申辩权利；当事人自告知之日起5个工作日内可以陈述、申辩。5个工作日为本平台默认期限，"
    "未引用具体条文，请信用主管部门按所适用的规定核定。"
)
BASIS_EN = (
    "Before a breach of a credit pledge is found, the entity is told the intended finding, its facts, "
    "grounds and basis (including what the pledge said breaking it means) and its right to state a "
    "defence, which it may do within 5 working days of the notice. The 5 working days are the portal's "
    "default and cite no provision: the credit office confirms them against the rule that applies."
)


def seed(apps, schema_editor):
    DeadlineRule = apps.get_model("workdays", "DeadlineRule")
    DeadlineRule.objects.get_or_create(
        key=KEY,
        effective_from=date(2000, 1, 1),
        defaults={"working_days": DAYS, "basis_zh": BASIS_ZH, "basis_en": BASIS_EN},
    )


def unseed(apps, schema_editor):
    DeadlineRule = apps.get_model("workdays", "DeadlineRule")
    DeadlineRule.objects.filter(key=KEY, effective_from=date(2000, 1, 1)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pledges", "0007_breach_notice_and_permit_record"),
        ("workdays", "0004_seed_deadline_rules"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
