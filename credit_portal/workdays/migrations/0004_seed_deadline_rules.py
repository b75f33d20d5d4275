"""The deadline rules in force when the table was introduced. Later changes are entered by the
credit office on the calendar page (audited), not by migrations."""

from datetime import date

from django.db import migrations

GUIDELINE_ZH = "《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》（国办发〔2019〕35号）"
GUIDELINE_EN = (
    "General Office of the State Council, Guiding Opinions on Accelerating the Construction of the "
    "Social Credit System and Building a New Credit-Based Regulatory Mechanism (Guo Ban Fa [2019] No. 35)"
)

# Only the first rule's source was cited when the table was introduced; the others state the
# obligation without a citation, for the credit office to complete on the calendar page.
RULES = [
    (
        "disclosure.publish",
        7,
        f"{GUIDELINE_ZH}：行政决定自作出之日起7个工作日内上网公开。",
        f"{GUIDELINE_EN}: decisions are published online within 7 working days of the decision.",
    ),
    (
        "disclosure.withdraw",
        3,
        "行政决定被依法撤销或者变更的，自撤销或者变更之日起3个工作日内撤下或者更新公开信息。",
        "A published decision that is revoked or changed is withdrawn or updated within 3 working days "
        "of the revocation or change.",
    ),
    (
        "objection.answer",
        5,
        "信用信息异议：自收到异议申请之日起5个工作日内处理并告知申请人。",
        "Objections to credit information are decided, and the applicant informed, within 5 working "
        "days of receipt.",
    ),
    (
        "complaint.answer",
        10,
        "本部门服务承诺（非法定时限）：自收到投诉之日起10个工作日内答复。",
        "The department's own service standard, not a statutory deadline: complaints are answered "
        "within 10 working days of receipt.",
    ),
]


def seed(apps, schema_editor):
    DeadlineRule = apps.get_model("workdays", "DeadlineRule")
    for key, days, basis_zh, basis_en in RULES:
        DeadlineRule.objects.get_or_create(
            key=key,
            effective_from=date(2000, 1, 1),
            defaults={"working_days": days, "basis_zh": basis_zh, "basis_en": basis_en},
        )


def unseed(apps, schema_editor):
    DeadlineRule = apps.get_model("workdays", "DeadlineRule")
    DeadlineRule.objects.filter(
        key__in=[key for key, *_ in RULES], effective_from=date(2000, 1, 1)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workdays", "0003_workday_index_sql"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
