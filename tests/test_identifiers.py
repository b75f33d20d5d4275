"""Unified social credit codes (GB 32100-2015) and resident identity numbers."""

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import uscc as stdnum_uscc

from records.identifiers import (
    REGISTRATION_AUTHORITIES,
    entity_type_of,
    make_uscc,
    mask_identity_number,
    organisation_code,
    validate_resident_id,
    validate_uscc,
)
from tests.factories import resident_id

# Every registration authority with every entity type it may issue.
ALL_KINDS = [(a, t) for a, types in REGISTRATION_AUTHORITIES.items() for t in types]


@pytest.mark.parametrize(("authority", "kind"), ALL_KINDS)
def test_valid_code_of_every_registration_authority_and_type(authority, kind):
    code = make_uscc(authority, kind, "440305", organisation_code("MA5D1234"))
    assert validate_uscc(code) == code


@pytest.mark.parametrize(
    "code",
    [
        "91110000600037341L",  # a published enterprise code
        "91440300MA5D1234X7",  # letters in the organisation code
    ],
)
def test_known_codes(code):
    expected = code[:17] + stdnum_uscc.calc_check_digit(code[:17])
    assert validate_uscc(expected) == expected


def test_letter_authorities_are_accepted_although_stdnum_rejects_them():
    for authority in ("A", "N", "Y"):
        code = make_uscc(authority, "1", "110105", organisation_code("12345678"))
        assert not stdnum_uscc.is_valid(code)
        assert validate_uscc(code) == code


def test_code_is_normalised_to_upper_case_without_spaces():
    code = make_uscc("9", "1", "440305", organisation_code("MA5D1234"))
    assert validate_uscc(" " + code.lower()[:9] + " " + code.lower()[9:]) == code


@pytest.mark.parametrize("position", range(18))
def test_any_single_character_change_is_rejected(position):
    code = make_uscc("9", "1", "440305", organisation_code("MA5D1234"))
    replacement = "7" if code[position] != "7" else "8"
    tampered = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(ValidationError):
        validate_uscc(tampered)


def test_bad_check_character_says_what_it_should_be():
    code = make_uscc("9", "1", "440305", organisation_code("MA5D1234"))
    wrong = "0" if code[-1] != "0" else "1"
    with pytest.raises(ValidationError) as exc:
        validate_uscc(code[:17] + wrong)
    assert exc.value.code == "checksum"
    assert f"must end in {code[-1]}" in exc.value.messages[0]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("9144030", "length"),
        ("91440300MA5D1234X71", "length"),
        ("9144030OMA5D1234X7", "alphabet"),  # letter O
        ("9I440300MA5D1234X7", "alphabet"),  # letter I
        ("B1440300MA5D1234X7", "authority"),
        ("94440300MA5D1234X7", "entity_type"),  # market regulation issues types 1-3 only
        ("Y2440300MA5D1234X7", "entity_type"),
        ("9144A300MA5D1234X7", "division"),
    ],
)
def test_malformed_codes_name_the_problem(value, error):
    with pytest.raises(ValidationError) as exc:
        validate_uscc(value)
    assert exc.value.code == error


def test_entity_type_follows_the_first_two_characters():
    assert entity_type_of("91xxxxxxxxxxxxxxxx") == "enterprise"
    assert entity_type_of("92xxxxxxxxxxxxxxxx") == "individual_business"
    assert entity_type_of("93xxxxxxxxxxxxxxxx") == "farmer_cooperative"
    assert entity_type_of("12xxxxxxxxxxxxxxxx") == "public_institution"
    assert entity_type_of("51xxxxxxxxxxxxxxxx") == "social_organisation"
    assert entity_type_of("N2xxxxxxxxxxxxxxxx") == "other"


def test_organisation_code_check_character():
    # GB 11714 example: 10000000 -> weights sum 3, 11 - 3 = 8
    assert organisation_code("10000000") == "100000008"
    assert organisation_code("D2143569") == "D2143569X"  # remainder 10 -> X
    assert organisation_code("00000000") == "000000000"  # 11 -> 0


def test_resident_id_valid_and_invalid():
    number = resident_id("19900307", "123")
    assert validate_resident_id(number) == number
    assert validate_resident_id(number.lower()) == number
    with pytest.raises(ValidationError) as exc:
        validate_resident_id(number[:17] + ("0" if number[17] != "0" else "1"))
    assert exc.value.code == "invalid"
    with pytest.raises(ValidationError) as exc:
        validate_resident_id(number[:10])
    assert exc.value.code == "length"
    with pytest.raises(ValidationError):
        validate_resident_id("440104199002301234")  # 30 February


def test_masking_keeps_region_prefix_and_last_four():
    assert mask_identity_number("110101199003077777") == "1101**********7777"
    assert mask_identity_number("11010119900307777X") == "1101**********777X"
    assert mask_identity_number("E12345678") == "E*******8"  # a passport: a fifth at each end
    assert mask_identity_number("1234") == "****"
