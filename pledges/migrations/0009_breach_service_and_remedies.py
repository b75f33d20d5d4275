"""How a notice of an intended breach finding was served (channel, date of service, reference;
the defence window runs from the date of service), the provision relied on kept apart from what
the pledge said breaking it means, and the remedies served with a confirmed finding: the
``RemedyRule`` table and its first rows. Later wording is entered by the credit office (audited),
not by migrations.

Notices served before this migration were all served through the portal on the day they were
recorded; how many users were told then is not known (left empty)."""

from datetime import date

import django.core.validators
import django.utils.timezone
from django.db import migrations, models


GUIDELINE_ZH = "《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》（国办发〔2019〕35号）"
GUIDELINE_EN = "General Office of the State Council, Guo Ban Fa [2019] No. 35"
OBJECTION_ZH = (
    "认为本认定记入的信用记录有误的，可以通过本平台“我的信用记录”对该记录提出异议，"
    "本部门自收到异议之日起{answer_days}个工作日内核实处理并告知结果。"
)
OBJECTION_EN = (
    "If you believe the credit record of this finding is wrong, you may object to it on this portal "
    "(My credit records); the department checks it and tells you the outcome within {answer_days} "
    "working days of receiving the objection."
)
RECONSIDERATION_ZH = "对本认定不服的，可以自知道该认定之日起六十日内依法申请行政复议。"
RECONSIDERATION_EN = (
    "If you disagree with this finding, you may apply for administrative reconsideration within 60 days "
    "of the day you learn of it."
)
LITIGATION_ZH = "也可以自知道该认定之日起六个月内依法向人民法院提起行政诉讼。"
LITIGATION_EN = (
    "You may instead bring an administrative lawsuit before a people's court within 6 months of the day "
    "you learn of it."
)
RESTORATION_ZH = (
    "本认定的失信信息最短公示期为{min_months}个月。自{earliest}起，贵单位已纠正失信行为、履行相关义务"
    "并作出信用承诺的，可以向作出认定的{department}申请信用修复，信用修复不收取任何费用。"
    "本告知与认定决定一并送达。"
)
RESTORATION_EN = (
    "The information of this finding is published for at least {min_months} months. From {earliest}, "
    "once you have corrected the conduct, fulfilled the obligations and made a credit pledge, you may "
    "apply to the deciding department, {department}, for credit restoration, free of charge. This "
    "notice is served together with the decision."
)
ORDER_58_ZH = "《失信行为纠正后的信用信息修复管理办法（试行）》（国家发展改革委令第58号）"
ORDER_58_EN = "Measures for restoring credit information after dishonest conduct is corrected (trial), NDRC Order No. 58"
ORDER_36_ZH = "国家发展改革委令第36号（2026年4月1日起施行）"
ORDER_36_EN = "NDRC Order No. 36 (in force from 2026-04-01)"

# kind, effective from, text zh, text en, basis zh, basis en
RULES = [
    (
        "objection",
        date(2000, 1, 1),
        OBJECTION_ZH,
        OBJECTION_EN,
        f"{GUIDELINE_ZH}第（十七）项（信用信息异议制度）",
        f"{GUIDELINE_EN}, item (17) (objections to credit information)",
    ),
    (
        "reconsideration",
        date(2018, 1, 1),
        RECONSIDERATION_ZH,
        RECONSIDERATION_EN,
        "《中华人民共和国行政复议法》（2017年修正）第九条第一款",
        "Administrative Reconsideration Law of the PRC (amended 2017), Article 9(1)",
    ),
    (
        "reconsideration",
        date(2024, 1, 1),
        RECONSIDERATION_ZH,
        RECONSIDERATION_EN,
        "《中华人民共和国行政复议法》（2023年修订）第二十条第一款",
        "Administrative Reconsideration Law of the PRC (revised 2023), Article 20(1)",
    ),
    (
        "litigation",
        date(2015, 5, 1),
        LITIGATION_ZH,
        LITIGATION_EN,
        "《中华人民共和国行政诉讼法》第四十六条第一款",
        "Administrative Litigation Law of the PRC, Article 46(1)",
    ),
    ("restoration", date(2023, 5, 1), RESTORATION_ZH, RESTORATION_EN, ORDER_58_ZH, ORDER_58_EN),
    ("restoration", date(2026, 4, 1), RESTORATION_ZH, RESTORATION_EN, ORDER_36_ZH, ORDER_36_EN),
]


def forward(apps, schema_editor):
    from django.utils import timezone

    BreachNotice = apps.get_model("pledges", "BreachNotice")
    for notice in BreachNotice.objects.select_related("pledge").filter(served_on__isnull=True):
        notice.served_on = timezone.localdate(notice.served_at)
        notice.pledge_consequences = notice.pledge.consequences
        notice.save(update_fields=["served_on", "pledge_consequences"])
    RemedyRule = apps.get_model("pledges", "RemedyRule")
    for kind, effective_from, text_zh, text_en, basis_zh, basis_en in RULES:
        RemedyRule.objects.get_or_create(
            kind=kind,
            effective_from=effective_from,
            defaults={"text_zh": text_zh, "text_en": text_en, "basis_zh": basis_zh, "basis_en": basis_en},
        )


class Migration(migrations.Migration):

    dependencies = [
        ('pledges', '0008_breach_defence_deadline_rule'),
    ]

    operations = [
        migrations.AddField(
            model_name='breachnotice',
            name='pledge_consequences',
            field=models.TextField(blank=True, validators=[django.core.validators.ProhibitNullCharactersValidator()], verbose_name='what the pledge said breaking it means'),
        ),
        migrations.AddField(
            model_name='breachnotice',
            name='portal_recipients',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='portal users notified'),
        ),
        migrations.AddField(
            model_name='breachnotice',
            name='remedies_en',
            field=models.TextField(blank=True, verbose_name='remedies and restoration (English)'),
        ),
        migrations.AddField(
            model_name='breachnotice',
            name='remedies_zh',
            field=models.TextField(blank=True, verbose_name='remedies and restoration (Chinese)'),
        ),
        migrations.AddField(
            model_name='breachnotice',
            name='restoration_from',
            field=models.DateField(blank=True, null=True, verbose_name='restoration may be sought from'),
        ),
        migrations.AddField(
            model_name='breachnotice',
            name='served_on',
            field=models.DateField(null=True, verbose_name='date of service'),
        ),
        migrations.AddField(
            model_name='breachnotice',
            name='service_channel',
            field=models.CharField(choices=[('portal', 'Through the portal (My pledges, with an email)'), ('post', 'By post'), ('in_person', 'In person'), ('publication', 'By publication (public announcement)')], default='portal', max_length=12, verbose_name='how the notice was served'),
        ),
        migrations.AddField(
            model_name='breachnotice',
            name='service_reference',
            field=models.CharField(blank=True, max_length=200, validators=[django.core.validators.ProhibitNullCharactersValidator()], verbose_name='reference of the service'),
        ),
        migrations.AlterField(
            model_name='breachnotice',
            name='legal_basis',
            field=models.TextField(validators=[django.core.validators.ProhibitNullCharactersValidator()], verbose_name='provision relied on'),
        ),
        migrations.AlterField(
            model_name='breachnotice',
            name='served_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='recorded at'),
        ),
        migrations.CreateModel(
            name='RemedyRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('objection', 'Objection to the credit record'), ('reconsideration', 'Administrative reconsideration'), ('litigation', 'Administrative litigation'), ('restoration', 'Credit restoration')], max_length=16, verbose_name='remedy')),
                ('effective_from', models.DateField(verbose_name='effective from')),
                ('text_zh', models.TextField(max_length=400, validators=[django.core.validators.ProhibitNullCharactersValidator()], verbose_name='text (Chinese)')),
                ('text_en', models.TextField(max_length=400, validators=[django.core.validators.ProhibitNullCharactersValidator()], verbose_name='text (English)')),
                ('basis_zh', models.CharField(max_length=200, validators=[django.core.validators.ProhibitNullCharactersValidator()], verbose_name='basis (Chinese)')),
                ('basis_en', models.CharField(max_length=200, validators=[django.core.validators.ProhibitNullCharactersValidator()], verbose_name='basis (English)')),
            ],
            options={
                'verbose_name': 'remedy rule',
                'verbose_name_plural': 'remedy rules',
                'ordering': ['kind', '-effective_from'],
                'constraints': [models.UniqueConstraint(fields=('kind', 'effective_from'), name='remedy_rule_kind_from_uniq')],
            },
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='breachnotice',
            name='served_on',
            field=models.DateField(verbose_name='date of service'),
        ),
    ]
