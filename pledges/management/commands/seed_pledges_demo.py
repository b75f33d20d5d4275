"""Demo matters with pledge texts and compliance material for the demo departments, plus, when the
demo business user exists, one application accepted with materials to follow and one public pledge.

Idempotent: running it again adds nothing already there. ``seed_demo`` may call it after its own
departments and users exist (``call_command("seed_pledges_demo")``); departments missing are skipped."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand

from credit_portal.accounts.actors import Actor, actor_for_user
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department, User
from pledges import services
from pledges.models import Matter, PermitApplication, Pledge
from records.models import EntityMembership

CONSEQUENCES_ZH = (
    "申请人知悉：如承诺不实或未在期限内补齐容缺材料，经核查确认后，行政机关将依法撤销相关许可决定，"
    "并将失信信息记入申请人信用记录、依法向社会公开，在一定期限内不再适用告知承诺制，依法实施联合惩戒。"
)
CONSEQUENCES_EN = (
    "The applicant knows that if the pledge is untrue or the missing materials are not supplied in time, "
    "after checking the department will revoke the permit as the law provides, record the breach in the "
    "applicant's public credit record, exclude it from pledge-based approval for a period, and apply joint "
    "punishment measures where the law provides."
)

MATTERS = [
    {
        "department": "SZ-AMR",
        "code": "food-business",
        "name_zh": "食品经营许可",
        "name_en": "Food business licence",
        "description_zh": "从事食品销售和餐饮服务活动，应当依法取得食品经营许可。",
        "description_en": "A licence is required to sell food or run a catering business.",
        "pledge_allowed": True,
        "materials_due_days": 20,
        "statutory_days": 10,
        "materials": [
            ("食品经营许可申请书", "Application form", False),
            ("营业执照复印件", "Copy of the business licence", False),
            (
                "与食品经营相适应的主要设备设施布局、操作流程等文件",
                "Layout of the main equipment and workflow",
                True,
            ),
            ("食品安全自查、从业人员健康管理等食品安全管理制度", "Food safety management rules", True),
        ],
        "text_zh": "本申请人郑重承诺：已知悉食品经营许可的条件和要求，所填写的信息和提交的材料真实、准确、完整；"
        "经营场所、设备设施、人员和管理制度符合食品安全法律法规和标准的要求；对暂未提交的材料，"
        "将在规定期限内补齐；自愿接受监管部门的监督检查。",
        "text_en": "The applicant solemnly pledges that it knows the conditions of the food business licence; that the "
        "information and materials it gives are true, accurate and complete; that its premises, equipment, staff and "
        "rules meet food safety law and standards; that it will supply any material not yet given within the deadline; "
        "and that it accepts inspection by the regulator.",
        "education": {
            "title_zh": "食品经营许可办理须知",
            "title_en": "Before you apply for a food business licence",
            "body_zh": "经营场所应当与有毒、有害场所以及其他污染源保持规定的距离；应当配备食品安全管理人员，"
            "从业人员应当每年进行健康检查，取得健康证明后方可上岗。",
            "body_en": "Premises must keep the required distance from toxic or hazardous sites and other sources of "
            "pollution; a food safety manager is required, and staff need a yearly health check before they work.",
            "links": [{"title": "《中华人民共和国食品安全法》", "url": "https://www.samr.gov.cn/"}],
            "checklist": [
                {"zh": "经营场所面积、布局符合要求", "en": "Premises of the required size and layout"},
                {"zh": "从业人员持有有效健康证明", "en": "Staff hold valid health certificates"},
                {"zh": "建立进货查验记录制度", "en": "Records of incoming goods checks kept"},
            ],
        },
    },
    {
        "department": "SZ-AMR",
        "code": "industrial-product",
        "name_zh": "重要工业产品生产许可证",
        "name_en": "Production licence for important industrial products",
        "description_zh": "列入目录的重要工业产品，实行生产许可证管理；部分产品实行告知承诺审批。",
        "description_en": "Listed industrial products need a production licence; some are approved on a pledge.",
        "pledge_allowed": True,
        "materials_due_days": 30,
        "statutory_days": 20,
        "materials": [
            ("生产许可证申请书", "Application form", False),
            ("产品检验合格报告", "Product test report", True),
        ],
        "text_zh": "本企业承诺：具备与所生产产品相适应的生产条件、检验检测能力和质量管理制度，"
        "所提交材料真实有效，并在规定期限内补齐产品检验报告。",
        "text_en": "The enterprise pledges that it has production conditions, testing capacity and quality management "
        "suited to the product, that its materials are true, and that it will supply the test report in time.",
        "education": None,
    },
    {
        "department": "GZ-AMR",
        "code": "public-place-hygiene",
        "name_zh": "公共场所卫生许可",
        "name_en": "Public place hygiene licence",
        "description_zh": "住宿、沐浴、美容美发等公共场所经营者，应当取得公共场所卫生许可证。",
        "description_en": "Hotels, bathhouses, hair and beauty salons and other public places need a hygiene licence.",
        "pledge_allowed": True,
        "materials_due_days": 15,
        "statutory_days": 20,
        "materials": [
            ("卫生许可申请表", "Application form", False),
            ("卫生检测（评价）报告", "Hygiene test report", True),
            ("从业人员健康合格证明", "Staff health certificates", True),
        ],
        "text_zh": "本单位承诺：经营场所符合公共场所卫生标准和要求，卫生管理制度健全，"
        "从业人员持有效健康合格证明上岗；暂缺材料将在规定期限内补齐。",
        "text_en": "We pledge that the premises meet public place hygiene standards, that our hygiene rules are in "
        "place, that staff work with valid health certificates, and that missing materials will follow in time.",
        "education": {
            "title_zh": "公共场所卫生管理要点",
            "title_en": "Hygiene in public places: the essentials",
            "body_zh": "公共场所经营者应当建立卫生管理制度，定期对顾客用品用具进行清洗、消毒、保洁。",
            "body_en": "Operators of public places must keep hygiene rules and regularly clean and disinfect items "
            "customers use.",
            "links": [],
            "checklist": [
                {"zh": "顾客用品用具一客一换一消毒", "en": "Customer items changed and disinfected each time"}
            ],
        },
    },
    {
        "department": "SZ-EEB",
        "code": "pollutant-discharge",
        "name_zh": "排污许可",
        "name_en": "Pollutant discharge permit",
        "description_zh": "实行排污许可管理的企业事业单位，应当依法申请取得排污许可证。",
        "description_en": "Enterprises under permit management must obtain a pollutant discharge permit.",
        "pledge_allowed": False,
        "materials_due_days": 20,
        "statutory_days": 20,
        "materials": [
            ("排污许可证申请表", "Application form", False),
            ("自行监测方案", "Self-monitoring plan", False),
        ],
        "text_zh": "",
        "text_en": "",
        "education": None,
    },
]


def _actor_for(department: Department) -> Actor:
    """A reviewer of the department if the demo has one; else the portal acting for it."""
    user = (
        User.objects.filter(
            department=department, is_active=True, staff_role__in=["reviewer", "department_admin"]
        )
        .order_by("pk")
        .first()
    )
    if user is not None:
        return actor_for_user(user)
    return Actor(
        kind="system",
        capabilities=frozenset(Cap.values),
        department=department,
        system_name="seed_pledges_demo",
    )


# The smallest valid PDF: demo uploads are real files of an accepted kind.
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


class Command(BaseCommand):
    help = "Load idempotent demo matters, pledge texts and compliance material (and a demo application)."

    def handle(self, *args, **options):
        departments = {
            d.code: d for d in Department.objects.filter(code__in={m["department"] for m in MATTERS})
        }
        created = 0
        for spec in MATTERS:
            department = departments.get(spec["department"])
            if department is None:
                continue
            if Matter.objects.filter(department=department, code=spec["code"]).exists():
                continue
            actor = _actor_for(department)
            matter = services.matter_save(
                actor=actor,
                data=services.MatterInput(
                    **{
                        k: spec[k] for k in ("code", "name_zh", "name_en", "description_zh", "description_en")
                    },
                    pledge_allowed=spec["pledge_allowed"],
                    materials_due_days=spec["materials_due_days"],
                    statutory_days=spec["statutory_days"],
                ),
                materials=[
                    services.MaterialInput(name_zh=zh, name_en=en, pledge_may_replace=may)
                    for zh, en, may in spec["materials"]
                ],
            )
            if spec["text_zh"]:
                services.pledge_template_publish(
                    actor=actor,
                    matter_id=matter.pk,
                    text_zh=spec["text_zh"],
                    text_en=spec["text_en"],
                    consequences_zh=CONSEQUENCES_ZH,
                    consequences_en=CONSEQUENCES_EN,
                )
            if spec["education"]:
                services.compliance_material_save(
                    actor=actor, matter_id=matter.pk, data=services.EducationInput(**spec["education"])
                )
            created += 1
        self._demo_application()
        self.stdout.write(f"{created} demo matter(s) created.")

    def _demo_application(self) -> None:
        user = User.objects.filter(username="demo_company").first()
        matter = Matter.objects.filter(department__code="SZ-AMR", code="food-business").first()
        membership = (
            EntityMembership.objects.filter(user=user).select_related("entity").first() if user else None
        )
        if membership is None or matter is None:
            return
        actor = actor_for_user(user)
        entity = membership.entity
        if not PermitApplication.objects.filter(entity=entity, matter=matter).exists():
            materials = list(matter.materials.all())
            uploads = {
                m.pk: ContentFile(_PDF, name=f"{m.name_zh}.pdf")
                for m in materials
                if not m.pledge_may_replace
            }
            services.application_submit(
                actor=actor,
                matter_id=matter.pk,
                entity_code=entity.code,
                uploads=uploads,
                missing=[m.pk for m in materials if m.pledge_may_replace],
                pledge=services.PledgeSigning(
                    template_version=matter.current_template().version,
                    signature=services.Signature(signer_name=user.full_name, confirmed=True),
                ),
            )
        if not Pledge.objects.filter(entity=entity, kind=Pledge.Kind.PUBLIC).exists():
            services.public_pledge_publish(
                actor=actor,
                entity_code=entity.code,
                text="本单位承诺诚信经营，明码标价，不销售假冒伪劣商品，自觉接受社会监督。",
                signature=services.Signature(signer_name=user.full_name, confirmed=True),
            )
