"""Identifiers: the unified social credit code (GB 32100-2015) and the resident identity number.

``stdnum.cn.uscc`` computes the check character correctly but rejects valid codes whose first
characters are letters (registration authorities A, N and Y), so the format is checked here against
the standard's tables and only the check-character arithmetic is taken from it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric
from stdnum.cn.uscc import calc_check_digit
from stdnum.exceptions import ValidationError as StdnumError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# GB 32100-2015 table 1 and 2: registration authority -> allowed entity-type characters.
REGISTRATION_AUTHORITIES: dict[str, dict[str, str]] = {
    "1": {"1": "organ", "2": "public_institution", "3": "mass_organisation", "9": "other"},  # 机构编制
    "2": {"1": "foreign_press", "9": "other"},  # 外交
    "3": {
        "1": "law_firm",
        "2": "notary",
        "3": "legal_service",
        "4": "forensic",
        "5": "arbitration",
        "9": "other",
    },
    "4": {"1": "foreign_culture_centre", "9": "other"},  # 文化
    "5": {"1": "social_organisation", "2": "private_non_enterprise", "3": "foundation", "9": "other"},  # 民政
    "6": {"1": "foreign_tourism_office", "2": "hkmt_tourism_office", "9": "other"},  # 旅游
    "7": {"1": "religious_venue", "2": "religious_school", "9": "other"},  # 宗教
    "8": {"1": "trade_union", "9": "other"},  # 工会
    "9": {"1": "enterprise", "2": "individual_business", "3": "farmer_cooperative"},  # 市场监管（工商）
    "A": {"1": "military_public_institution", "9": "other"},  # 中央军委改革和编制办公室
    "N": {
        "1": "group_collective",
        "2": "village_collective",
        "3": "township_collective",
        "9": "other",
    },  # 农业
    "Y": {"1": "other"},  # 其他
}

# The portal's coarse entity types, derived from the code's first two characters.
ENTITY_TYPE_BY_KIND = {
    "enterprise": "enterprise",
    "individual_business": "individual_business",
    "farmer_cooperative": "farmer_cooperative",
    "organ": "government_organ",
    "public_institution": "public_institution",
    "military_public_institution": "public_institution",
    "social_organisation": "social_organisation",
    "private_non_enterprise": "social_organisation",
    "foundation": "social_organisation",
    "mass_organisation": "social_organisation",
    "trade_union": "social_organisation",
}


def normalise_uscc(value: str) -> str:
    return "".join(str(value).split()).upper()


def uscc_check_character(first17: str) -> str:
    return calc_check_digit(first17)


def validate_uscc(value: str) -> str:
    """Return the normalised code or raise ``ValidationError`` saying exactly what is wrong."""
    code = normalise_uscc(value)
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)d."),
            code="length",
            params={"n": len(code)},
        )
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise ValidationError(
            _(
                "Characters not allowed in a unified social credit code: %(chars)s (I, O, S, V and Z are never used)."
            ),
            code="alphabet",
            params={"chars": " ".join(bad)},
        )
    types = REGISTRATION_AUTHORITIES.get(code[0])
    if types is None:
        raise ValidationError(
            _("'%(c)s' is not a registration authority code (1–9, A, N or Y)."),
            code="authority",
            params={"c": code[0]},
        )
    if code[1] not in types:
        raise ValidationError(
            _("'%(t)s' is not an entity type of registration authority '%(a)s'."),
            code="entity_type",
            params={"t": code[1], "a": code[0]},
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            _("Characters 3–8 must be an administrative division code (six digits)."), code="division"
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("The check character is wrong: a code beginning %(head)s must end in %(expected)s."),
            code="checksum",
            params={"head": code[:17], "expected": expected},
        )
    return code


def entity_type_of(code: str) -> str:
    kind = REGISTRATION_AUTHORITIES.get(code[0], {}).get(code[1], "other")
    return ENTITY_TYPE_BY_KIND.get(kind, "other")


def make_uscc(authority: str, entity_type: str, division: str, organisation_code: str) -> str:
    """Assemble a valid code (used by demo data and tests)."""
    first17 = f"{authority}{entity_type}{division}{organisation_code}"
    if len(first17) != 17:
        raise ValueError("authority(1) + type(1) + division(6) + organisation code(9) must be 17 characters")
    return first17 + uscc_check_character(first17)


def validate_resident_id(value: str) -> str:
    """A resident identity number (GB 11643): 18 characters, MOD 11-2 check, a real birth date."""
    number = "".join(str(value).split()).upper()
    try:
        return ric.validate(number)
    except StdnumError as exc:
        if len(number) != 18:
            raise ValidationError(
                _("A resident identity number has 18 characters; this one has %(n)d."),
                code="length",
                params={"n": len(number)},
            ) from exc
        raise ValidationError(
            _(
                "This is not a valid resident identity number (the birth date or the check character is wrong)."
            ),
            code="invalid",
        ) from exc


def mask_identity_number(number: str) -> str:
    """``110101199003077777`` -> ``1101**********7777``: for a resident identity number the region
    prefix and the last four only; shorter documents (passports, permits) keep a fifth at each end."""
    keep = 4 if len(number) >= 18 else len(number) // 5
    if keep == 0:
        return "*" * len(number)
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def organisation_code(body: str) -> str:
    """Complete an 8-character organisation code body with its GB 11714 check character."""
    body = body.upper()
    if len(body) != 8 or any(c not in _ORG_VALUES for c in body):
        raise ValueError("an organisation code body is 8 digits or upper-case letters")
    check = 11 - sum(_ORG_VALUES[c] * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))
