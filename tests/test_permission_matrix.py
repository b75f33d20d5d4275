"""The permission matrix: every door of the registry against every kind of actor.

Each door has a small table ``actor -> expected status``; actors are fixture names (or token
recipes) resolved by the ``as_actor`` fixture. Every refusal also checks that nothing changed
(row counts, a refreshed object's fields) and, where the object should stay hidden, that the
refusal does not name it.
"""

from __future__ import annotations

import re
import zlib
from datetime import date, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.accounts.models import Department
from credit_portal.accounts.services import token_issue, token_revoke
from credit_portal.audit.models import AuditEvent
from credit_portal.workdays.models import CalendarDay
from records import services
from records.access import can_edit_entity
from records.identifiers import mask_identity_number
from records.models import EntityClaim, EntityMembership, EntityPerson, MarketEntity, Person
from tests import factories as f

pytestmark = pytest.mark.django_db

READ = "entities:read"
WRITE = "entities:write"
MISSING_CODE = "91440300MA5FXXXX0X"  # well-formed enough for a URL, registered nowhere

# ---------------------------------------------------------------------------------------------
# Actors
# ---------------------------------------------------------------------------------------------

USERS = {
    "entity_user",
    "other_entity_user",
    "clerk",
    "reviewer",
    "department_admin",
    "other_department_clerk",
    "other_department_reviewer",
    "credit_officer",
    "claimant",
}
STAFF = [
    "clerk",
    "reviewer",
    "department_admin",
    "other_department_clerk",
    "other_department_reviewer",
    "credit_officer",
]
# Token recipes: (department fixture, scopes).
TOKENS = {
    "token_read": ("department", [READ]),
    "token_write": ("department", [WRITE]),
    "token_read_write": ("department", [READ, WRITE]),
    "other_token_read": ("other_department", [READ]),
    "other_token_write": ("other_department", [WRITE]),
}


@pytest.fixture
def claimant(entity):
    """An entity user with nothing approved yet (the author of ``pending_claim``)."""
    return f.entity_user("claimant")


@pytest.fixture
def pending_claim(claimant, entity):
    return services.claim_submit(actor=actor_for_user(claimant), code=entity.code, role="agent")


@pytest.fixture
def as_actor(request, client_for, token_for):
    """``as_actor(name)``: a test client acting as the named actor."""

    def make(name: str) -> Client:
        if name == "anonymous":
            return Client()
        if name in USERS:
            return client_for(request.getfixturevalue(name))
        if name in TOKENS:
            department, scopes = TOKENS[name]
            return token_for(request.getfixturevalue(department), scopes)
        if name == "revoked_token":
            token, secret = token_issue(
                actor=system_actor("tests"),
                department=request.getfixturevalue("department"),
                scopes=[READ, WRITE],
                name="revoked",
            )
            token_revoke(actor=system_actor("tests"), token=token)
            return Client(headers={"Authorization": f"Bearer {secret}"})
        if name == "garbage_token":
            return Client(headers={"Authorization": "Bearer cp_this-is-not-a-token-at-all"})
        raise AssertionError(f"unknown actor {name!r}")

    return make


def counts() -> dict[str, int]:
    models = (MarketEntity, EntityClaim, EntityMembership, EntityPerson, Person, AuditEvent, CalendarDay)
    return {m.__name__: m.objects.count() for m in models}


def entity_state(entity: MarketEntity) -> dict:
    return MarketEntity.objects.filter(pk=entity.pk).values().get()


def text(response) -> str:
    return response.content.decode()


def same_page(a, b, *variable: str) -> bool:
    """Two HTML responses are the same page once CSRF tokens and the requested paths are blanked."""

    def norm(response) -> str:
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text(response))
        for v in variable:
            body = body.replace(v, "<X>")
        return body

    return norm(a) == norm(b)


def assert_login_redirect(response, door: str) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(f"/{door}/login/?next=")


def entity_form_data(entity: MarketEntity, **changes) -> dict:
    data = {
        "code": entity.code,
        "name_zh": entity.name_zh,
        "name_en": entity.name_en,
        "division": entity.division_id,
        "industry": entity.industry,
        "registered_on": "",
        "status": entity.status,
        "address": entity.address,
        "public_sector": entity.public_sector,
        "supervising_department": "",
        "lr_name": "",
        "lr_id_type": "",
        "lr_id_number": "",
    }
    data.update(changes)
    return data


# ---------------------------------------------------------------------------------------------
# API: GET /api/v1/entities/ and /api/v1/entities/{code}/ (entities:read)
# ---------------------------------------------------------------------------------------------

API_READ = [
    ("anonymous", 401),
    ("garbage_token", 401),
    ("revoked_token", 401),
    ("token_write", 403),
    ("other_token_write", 403),
    ("entity_user", 403),
    ("other_entity_user", 403),
    ("token_read", 200),
    ("other_token_read", 200),
    ("token_read_write", 200),
    ("clerk", 200),
    ("other_department_reviewer", 200),
    ("credit_officer", 200),
]


@pytest.mark.parametrize(("actor", "expected"), API_READ)
def test_api_entity_search(as_actor, actor, expected, entity, legal_rep_id):
    client = as_actor(actor)
    before = counts()
    response = client.get("/api/v1/entities/", {"q": "腾讯"})
    assert response.status_code == expected
    if expected == 200:
        assert [row["code"] for row in response.json()["results"]] == [entity.code]
    else:
        assert entity.name_zh not in text(response)
        assert entity.code not in text(response)
    assert legal_rep_id not in text(response)
    assert counts() == before


@pytest.mark.parametrize(("actor", "expected"), API_READ)
def test_api_entity_detail(as_actor, actor, expected, entity, legal_rep_id):
    client = as_actor(actor)
    before = counts()
    existing = client.get(f"/api/v1/entities/{entity.code}/")
    missing = client.get(f"/api/v1/entities/{MISSING_CODE}/")
    assert existing.status_code == expected
    assert legal_rep_id not in text(existing)
    if expected == 200:
        body = existing.json()
        assert body["code"] == entity.code
        assert body["registering_department"] == "SZ-TEST"
        assert [p["id_number_masked"] for p in body["persons"]] == [mask_identity_number(legal_rep_id)]
        assert missing.status_code == 404
    else:
        # The capability is checked before the look-up: existing and missing codes look the same.
        assert missing.status_code == expected
        assert existing.json() == missing.json()
        assert entity.name_zh not in text(existing)
    assert counts() == before


# ---------------------------------------------------------------------------------------------
# API: POST /api/v1/entities/ (entities:write)
# ---------------------------------------------------------------------------------------------

NEW_CODE = f.uscc(n=901)
NEW_REP_ID = f.resident_id(birth="19850101", seq="456")


def new_entity_body() -> dict:
    return {
        "code": NEW_CODE,
        "name_zh": "深圳市新登记科技有限公司",
        "division": "440305",
        # Not a field of the request: the registering department is always the caller's.
        "registering_department": "GD-CREDIT",
        "legal_representative": {"name": "李某", "id_type": "resident_id", "id_number": NEW_REP_ID},
    }


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 401),
        ("garbage_token", 401),
        ("revoked_token", 401),
        ("token_read", 403),
        ("other_token_read", 403),
        ("entity_user", 403),
        ("other_entity_user", 403),
    ],
)
def test_api_register_denied_creates_nothing(as_actor, actor, expected, entity):
    client = as_actor(actor)
    before = counts()
    response = client.post("/api/v1/entities/", new_entity_body(), content_type="application/json")
    assert response.status_code == expected
    assert counts() == before
    assert not MarketEntity.objects.filter(code=NEW_CODE).exists()


@pytest.mark.parametrize(
    ("actor", "registering"),
    [
        ("token_write", "department"),
        ("token_read_write", "department"),
        ("other_token_write", "other_department"),
        ("clerk", "department"),  # a staff session holds entities:write too
    ],
)
def test_api_register_allowed(request, as_actor, actor, registering, entity):
    client = as_actor(actor)
    department = request.getfixturevalue(registering)
    before = counts()
    response = client.post("/api/v1/entities/", new_entity_body(), content_type="application/json")
    assert response.status_code == 201, response.content
    assert NEW_REP_ID not in text(response)
    assert response.json()["registering_department"] == department.code
    created = MarketEntity.objects.get(code=NEW_CODE)
    assert created.registering_department == department
    assert AuditEvent.objects.filter(action="records.entity.registered", target_id=str(created.pk)).exists()
    assert counts()["MarketEntity"] == before["MarketEntity"] + 1
    # The guardian grant went to the caller's department, and only to it.
    own_clerk = f.staff(department, "clerk")
    assert can_edit_entity(actor_for_user(own_clerk), created)
    other = request.getfixturevalue("other_department" if registering == "department" else "department")
    assert not can_edit_entity(actor_for_user(f.staff(other, "clerk")), created)


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize(
    "credential",
    ["expired", "inactive_department", "bare_keyword", "three_parts", "unknown_scheme", "not_ascii"],
)
def test_api_unusable_credentials_are_401(department, entity, credential):
    issue = {"actor": system_actor("tests"), "department": department, "scopes": [READ, WRITE], "name": "t"}
    if credential == "expired":
        _, secret = token_issue(**issue, expires_at=timezone.now() - timedelta(seconds=1))
        headers = _bearer(secret)
    elif credential == "inactive_department":
        _, secret = token_issue(**issue)
        Department.objects.filter(pk=department.pk).update(is_active=False)
        headers = _bearer(secret)
    else:
        headers = {
            "bare_keyword": {"Authorization": "Bearer"},
            "three_parts": {"Authorization": "Bearer cp_a cp_b"},
            "unknown_scheme": {"Authorization": "Token cp_whatever"},
            "not_ascii": {"Authorization": "Bearer cp_é".encode().decode("latin-1")},
        }[credential]
    client = Client(headers=headers)
    before = counts()
    assert client.get(f"/api/v1/entities/{entity.code}/").status_code == 401
    assert client.get("/api/v1/entities/", {"q": "腾讯"}).status_code == 401
    response = client.post("/api/v1/entities/", new_entity_body(), content_type="application/json")
    assert response.status_code == 401
    assert entity.name_zh not in text(response)
    assert counts() == before


def test_api_session_post_requires_the_csrf_token(clerk, entity):
    """A staff session holds entities:write, but a cross-site POST must not be able to use it."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    before = counts()
    response = client.post("/api/v1/entities/", new_entity_body(), content_type="application/json")
    assert response.status_code == 403
    assert counts() == before


@pytest.mark.parametrize("actor", ["other_token_write", "token_write"])
def test_api_cannot_register_over_an_existing_entity(as_actor, actor, entity):
    client = as_actor(actor)
    before, state = counts(), entity_state(entity)
    body = {**new_entity_body(), "code": entity.code, "name_zh": "广州市冒名顶替有限公司"}
    response = client.post("/api/v1/entities/", body, content_type="application/json")
    assert response.status_code == 409
    assert entity_state(entity) == state
    assert counts() == before


# ---------------------------------------------------------------------------------------------
# Public pages and the API documentation
# ---------------------------------------------------------------------------------------------

EVERYONE = [
    "anonymous",
    "entity_user",
    "other_entity_user",
    "clerk",
    "reviewer",
    "other_department_reviewer",
    "credit_officer",
    "token_read",
]


@pytest.mark.parametrize("actor", EVERYONE)
def test_public_pages_for_everyone_show_no_identity_number(as_actor, actor, entity, legal_rep_id):
    client = as_actor(actor)
    before = counts()
    masked = mask_identity_number(legal_rep_id)
    assert masked == legal_rep_id[:4] + "*" * 10 + legal_rep_id[-4:]

    home = client.get("/")
    search = client.get("/", {"q": "腾讯"})
    profile = client.get(f"/entities/{entity.code}/")
    profile_lower = client.get(f"/entities/{entity.code.lower()}/")
    missing = client.get(f"/entities/{MISSING_CODE}/")

    assert (home.status_code, search.status_code, profile.status_code) == (200, 200, 200)
    assert profile_lower.status_code == 200
    assert missing.status_code == 404
    assert entity.name_zh in text(search)
    assert entity.name_zh in text(profile)
    assert "马某某" in text(profile)  # the legal representative by name and role, no number
    for response in (home, search, profile, profile_lower, missing):
        assert legal_rep_id not in text(response)
        assert masked not in text(response)
    assert counts() == before


@pytest.mark.parametrize("actor", ["anonymous", "entity_user", "clerk", "token_read"])
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/", "/healthz"])
def test_api_documentation_is_public(as_actor, actor, url):
    assert as_actor(actor).get(url).status_code == 200


# ---------------------------------------------------------------------------------------------
# Staff pages (GET): who gets in
# ---------------------------------------------------------------------------------------------

# Not staff: the staff door sends to its sign-in page (tokens carry no session) or refuses.
OUTSIDERS = {"anonymous": 302, "token_read_write": 302, "entity_user": 403, "other_entity_user": 403}
ALL_STAFF_200 = dict.fromkeys(STAFF, 200)
STAFF_GET = {
    "/staff/": ALL_STAFF_200,
    "/staff/entities/": ALL_STAFF_200,
    "/staff/entities/new/": ALL_STAFF_200,
    # The registry is readable by every department; editing is the owning department's.
    "/staff/entities/{code}/": ALL_STAFF_200,
    "/staff/entities/{code}/edit/": {
        "clerk": 200,
        "reviewer": 200,
        "department_admin": 200,
        "other_department_clerk": 404,
        "other_department_reviewer": 404,
        "credit_officer": 200,
    },
    "/staff/claims/": {
        "clerk": 403,
        "reviewer": 200,
        "department_admin": 200,
        "other_department_clerk": 403,
        "other_department_reviewer": 200,
        "credit_officer": 200,
    },
    "/staff/claims/{claim}/": {
        "clerk": 403,
        "reviewer": 200,
        "department_admin": 200,
        "other_department_clerk": 403,
        "other_department_reviewer": 404,
        "credit_officer": 200,
    },
    "/staff/calendar/": ALL_STAFF_200,
}


def _cases(table: dict[str, dict[str, int]], outsiders: dict[str, int]) -> list:
    return [
        pytest.param(url, actor, status, id=f"{url}-{actor}")
        for url, expected in table.items()
        for actor, status in {**outsiders, **expected}.items()
    ]


@pytest.mark.parametrize(("url", "actor", "expected"), _cases(STAFF_GET, OUTSIDERS))
def test_staff_pages(as_actor, url, actor, expected, entity, pending_claim, legal_rep_id):
    client = as_actor(actor)
    before = counts()
    path = url.format(code=entity.code, claim=pending_claim.pk)
    response = client.get(path)
    assert response.status_code == expected
    if expected == 302:
        assert_login_redirect(response, "staff")
    if expected in (403, 404):
        assert entity.name_zh not in text(response)
        assert entity.name_en not in text(response)
        assert pending_claim.user.username not in text(response)
    assert legal_rep_id not in text(response)
    assert counts() == before


@pytest.mark.parametrize("actor", STAFF)
def test_staff_entity_page_shows_masked_number_and_reveal_button_only_when_entitled(
    as_actor, actor, entity, legal_rep_id
):
    response = as_actor(actor).get(f"/staff/entities/{entity.code}/")
    assert response.status_code == 200
    assert mask_identity_number(legal_rep_id) in text(response)
    assert legal_rep_id not in text(response)
    may_reveal = actor in ("reviewer", "department_admin", "credit_officer")
    assert ("/reveal/" in text(response)) is may_reveal
    may_edit = actor in ("clerk", "reviewer", "department_admin", "credit_officer")
    assert (f"/staff/entities/{entity.code}/edit/" in text(response)) is may_edit


@pytest.mark.parametrize("actor", STAFF)
@pytest.mark.parametrize(
    "url",
    [f"/staff/entities/{MISSING_CODE}/", f"/staff/entities/{MISSING_CODE}/edit/", "/staff/claims/999999/"],
)
def test_staff_missing_objects_are_404_after_the_capability_check(as_actor, actor, url):
    # Clerks lack claims:review: refused before any look-up, whether the claim exists or not.
    expected = 403 if "claims" in url and actor in ("clerk", "other_department_clerk") else 404
    assert as_actor(actor).get(url).status_code == expected


def test_other_department_edit_404_looks_like_a_missing_entity(as_actor, entity):
    client = as_actor("other_department_clerk")
    hidden = client.get(f"/staff/entities/{entity.code}/edit/")
    missing = client.get(f"/staff/entities/{MISSING_CODE}/edit/")
    assert hidden.status_code == missing.status_code == 404
    assert same_page(hidden, missing, entity.code, MISSING_CODE)


@pytest.mark.parametrize("actor", ["reviewer", "other_department_reviewer", "credit_officer"])
def test_staff_registry_marks_editable_rows(as_actor, actor, entity, other_entity):
    response = as_actor(actor).get("/staff/entities/")
    assert response.status_code == 200
    rows = {e.code: e.editable for e in response.context["page_obj"]}
    expected = {
        "reviewer": {entity.code: True, other_entity.code: False},
        "other_department_reviewer": {entity.code: False, other_entity.code: True},
        "credit_officer": {entity.code: True, other_entity.code: True},
    }[actor]
    assert rows == expected


# ---------------------------------------------------------------------------------------------
# Staff writes: register, edit
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected", "registering"),
    [
        ("anonymous", 302, None),
        ("token_read_write", 302, None),
        ("entity_user", 403, None),
        ("clerk", 302, "department"),
        ("other_department_clerk", 302, "other_department"),
        ("credit_officer", 302, "credit_office_department"),
    ],
)
def test_staff_register_entity(request, as_actor, actor, expected, registering, entity):
    client = as_actor(actor)
    before = counts()
    data = entity_form_data(entity, code=NEW_CODE, name_zh="深圳市新登记科技有限公司", name_en="")
    response = client.post("/staff/entities/new/", data)
    assert response.status_code == expected
    if registering is None:
        if expected == 302:
            assert_login_redirect(response, "staff")
        assert counts() == before
        assert not MarketEntity.objects.filter(code=NEW_CODE).exists()
    else:
        assert response["Location"] == f"/staff/entities/{NEW_CODE}/"
        created = MarketEntity.objects.get(code=NEW_CODE)
        assert created.registering_department == request.getfixturevalue(registering)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("token_read_write", 302),
        ("entity_user", 403),
        ("other_entity_user", 403),
        ("other_department_clerk", 404),
        ("other_department_reviewer", 404),
    ],
)
def test_staff_edit_denied_changes_nothing(as_actor, actor, expected, entity):
    client = as_actor(actor)
    before, state = counts(), entity_state(entity)
    response = client.post(
        f"/staff/entities/{entity.code}/edit/",
        entity_form_data(entity, name_zh="被篡改的名称有限公司", address="篡改地址"),
    )
    assert response.status_code == expected
    if expected == 302:
        assert_login_redirect(response, "staff")
    else:
        assert entity.name_zh not in text(response)
        assert entity.name_en not in text(response)
    assert entity_state(entity) == state
    assert counts() == before


@pytest.mark.parametrize("actor", ["clerk", "reviewer", "department_admin", "credit_officer"])
def test_staff_edit_by_owning_department_or_credit_office(as_actor, actor, entity):
    client = as_actor(actor)
    audit_before = AuditEvent.objects.count()
    response = client.post(
        f"/staff/entities/{entity.code}/edit/", entity_form_data(entity, address="深圳市南山区科技园")
    )
    assert response.status_code == 302
    assert response["Location"] == f"/staff/entities/{entity.code}/"
    entity.refresh_from_db()
    assert entity.address == "深圳市南山区科技园"
    assert AuditEvent.objects.count() == audit_before + 1
    assert AuditEvent.objects.filter(action="records.entity.updated", target_id=str(entity.pk)).exists()
    assert "深圳市南山区科技园" in text(client.get(f"/entities/{entity.code}/"))


# ---------------------------------------------------------------------------------------------
# Staff: revealing an identity number
# ---------------------------------------------------------------------------------------------


def reveal_url(entity: MarketEntity) -> str:
    person_id = EntityPerson.objects.get(entity=entity).person_id
    return f"/staff/entities/{entity.code}/persons/{person_id}/reveal/"


def identity_views() -> int:
    return AuditEvent.objects.filter(action="records.person.identity_viewed").count()


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("token_read_write", 302),
        ("entity_user", 403),
        ("clerk", 403),  # no persons:identity
        ("other_department_clerk", 403),
        ("other_department_reviewer", 404),  # the capability, but not this entity
    ],
)
def test_reveal_denied(as_actor, actor, expected, entity, legal_rep_id):
    client = as_actor(actor)
    before = counts()
    response = client.post(reveal_url(entity))
    assert response.status_code == expected
    if expected == 302:
        assert_login_redirect(response, "staff")
    assert legal_rep_id not in text(response)
    assert entity.name_zh not in text(response)
    assert counts() == before
    assert identity_views() == 0
    # Nothing is waiting in the session either.
    if actor not in ("anonymous", "token_read_write", "entity_user"):
        assert legal_rep_id not in text(client.get(f"/staff/entities/{entity.code}/"))


@pytest.mark.parametrize("actor", ["reviewer", "department_admin", "credit_officer"])
def test_reveal_allowed_shows_the_number_once_and_is_audited(request, as_actor, actor, entity, legal_rep_id):
    client = as_actor(actor)
    assert legal_rep_id not in text(client.get(f"/staff/entities/{entity.code}/"))
    response = client.post(reveal_url(entity))
    assert response.status_code == 200
    assert legal_rep_id in text(response)  # in this response only
    assert response["Cache-Control"] == "no-store"
    assert identity_views() == 1
    event = AuditEvent.objects.get(action="records.person.identity_viewed")
    assert event.actor_user_id == request.getfixturevalue(actor).pk
    assert event.data == {"entity": entity.code, "role": "legal_representative"}
    assert legal_rep_id not in str([event.before, event.after, event.data, event.target_repr])
    after = client.get(f"/staff/entities/{entity.code}/")
    assert legal_rep_id not in text(after)
    assert mask_identity_number(legal_rep_id) in text(after)
    # Each reveal is one audited view; viewing the page again logged nothing.
    assert identity_views() == 1
    client.post(reveal_url(entity))
    assert identity_views() == 2


def _session_payload_without_the_key(session_data: str) -> str:
    """What anyone reading ``django_session`` sees: the signature authenticates, it does not hide."""
    encoded = session_data.split(":", 1)[0]
    payload = signing.b64_decode(encoded.lstrip(".").encode())
    return (zlib.decompress(payload) if encoded.startswith(".") else payload).decode()


def test_revealed_number_is_not_stored_in_clear_in_the_session_table(as_actor, entity, legal_rep_id):
    client = as_actor("reviewer")
    response = client.post(reveal_url(entity))
    assert response.status_code == 200
    assert legal_rep_id in text(response)  # shown in the response itself
    assert response["Cache-Control"] == "no-store"
    stored = [_session_payload_without_the_key(s.session_data) for s in Session.objects.all()]
    assert stored  # the reviewer's session is there
    assert not any(legal_rep_id in payload for payload in stored)


def test_reveal_of_a_person_of_another_entity_is_404(as_actor, entity, other_department, legal_rep_id):
    """A reviewer may not use their own entity's URL to reach a person who is not linked to it."""
    foreign_id = f.resident_id(birth="19880808", seq="789")
    foreign = f.entity(
        other_department,
        code=f.uscc(n=902, division="440106"),
        name_zh="广州市外部人员有限公司",
        division="440106",
        legal_representative=services.PersonInput(name="王某", id_type="resident_id", id_number=foreign_id),
    )
    foreign_person = EntityPerson.objects.get(entity=foreign).person_id
    client = as_actor("reviewer")
    before = counts()
    response = client.post(f"/staff/entities/{entity.code}/persons/{foreign_person}/reveal/")
    assert response.status_code == 404
    assert foreign_id not in text(response)
    assert counts() == before
    assert identity_views() == 0


def test_staff_form_posts_require_the_csrf_token(reviewer, entity):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    before, state = counts(), entity_state(entity)
    edit = client.post(f"/staff/entities/{entity.code}/edit/", entity_form_data(entity, address="跨站"))
    reveal = client.post(reveal_url(entity))
    assert (edit.status_code, reveal.status_code) == (403, 403)
    assert entity_state(entity) == state
    assert counts() == before


def test_deactivated_staff_session_loses_the_door(client_for, clerk, entity):
    client = client_for(clerk)
    assert client.get("/staff/entities/").status_code == 200
    clerk.is_active = False
    clerk.save(update_fields=["is_active"])
    assert_login_redirect(client.get("/staff/entities/"), "staff")
    before, state = counts(), entity_state(entity)
    assert_login_redirect(
        client.post(f"/staff/entities/{entity.code}/edit/", entity_form_data(entity, address="x")), "staff"
    )
    assert entity_state(entity) == state
    assert counts() == before


@pytest.mark.parametrize("actor", [*STAFF, "entity_user", "anonymous"])
def test_django_admin_is_closed_to_portal_users(as_actor, actor):
    response = as_actor(actor).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert as_actor(actor).get("/admin/records/marketentity/").status_code == 302


# ---------------------------------------------------------------------------------------------
# Staff: claims
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "listed"),
    [("reviewer", True), ("credit_officer", True), ("other_department_reviewer", False)],
)
def test_claims_list_shows_only_the_departments_claims(as_actor, actor, listed, pending_claim, entity):
    response = as_actor(actor).get("/staff/claims/")
    assert response.status_code == 200
    assert (pending_claim in list(response.context["page_obj"])) is listed
    assert (entity.name_zh in text(response)) is listed
    assert (f"/staff/claims/{pending_claim.pk}/" in text(response)) is listed


@pytest.mark.parametrize(("actor", "listed"), [("reviewer", True), ("other_department_reviewer", False)])
@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_decided_claims_list_shows_only_the_departments_claims(
    as_actor, actor, listed, decision, pending_claim, entity
):
    services.claim_decide(
        actor=system_actor("tests"), claim_id=pending_claim.pk, approve=decision == "approved", reason="核实"
    )
    response = as_actor(actor).get("/staff/claims/", {"status": decision})
    assert response.status_code == 200
    assert (pending_claim in list(response.context["page_obj"])) is listed
    assert (entity.name_zh in text(response)) is listed


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("token_read_write", 302),
        ("entity_user", 403),
        ("claimant", 403),  # the applicant cannot approve their own claim
        ("clerk", 403),
        ("other_department_clerk", 403),
        ("other_department_reviewer", 404),
    ],
)
def test_claim_decision_denied(as_actor, actor, expected, pending_claim, entity):
    client = as_actor(actor)
    before = counts()
    response = client.post(f"/staff/claims/{pending_claim.pk}/", {"decision": "approve", "reason": ""})
    assert response.status_code == expected
    if expected == 302:
        assert_login_redirect(response, "staff")
    else:
        assert entity.name_zh not in text(response)
    pending_claim.refresh_from_db()
    assert pending_claim.status == EntityClaim.Status.PENDING
    assert pending_claim.decided_by is None
    assert not EntityMembership.objects.filter(user=pending_claim.user).exists()
    assert counts() == before


@pytest.mark.parametrize("actor", ["reviewer", "department_admin", "credit_officer"])
def test_claim_approve(request, as_actor, actor, pending_claim):
    client = as_actor(actor)
    response = client.post(f"/staff/claims/{pending_claim.pk}/", {"decision": "approve", "reason": ""})
    assert response.status_code == 302
    assert response["Location"] == "/staff/claims/"
    pending_claim.refresh_from_db()
    assert pending_claim.status == EntityClaim.Status.APPROVED
    assert pending_claim.decided_by == request.getfixturevalue(actor)
    membership = EntityMembership.objects.get(user=pending_claim.user, entity=pending_claim.entity)
    assert membership.role == "agent"
    assert AuditEvent.objects.filter(
        action="records.claim.approved", target_id=str(pending_claim.pk)
    ).exists()
    # Decided claims leave the decision page.
    assert client.get(f"/staff/claims/{pending_claim.pk}/").status_code == 404


def test_claim_reject_requires_a_reason(as_actor, pending_claim):
    client = as_actor("reviewer")
    before = counts()
    response = client.post(f"/staff/claims/{pending_claim.pk}/", {"decision": "reject", "reason": "  "})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    pending_claim.refresh_from_db()
    assert pending_claim.status == EntityClaim.Status.PENDING
    assert counts() == before

    response = client.post(
        f"/staff/claims/{pending_claim.pk}/", {"decision": "reject", "reason": "材料不足，无法核实身份"}
    )
    assert response.status_code == 302
    pending_claim.refresh_from_db()
    assert pending_claim.status == EntityClaim.Status.REJECTED
    assert pending_claim.decision_reason == "材料不足，无法核实身份"
    assert not EntityMembership.objects.filter(user=pending_claim.user).exists()
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1


@pytest.mark.parametrize("actor", ["reviewer", "credit_officer"])
def test_withdrawn_claim_cannot_be_decided(as_actor, actor, claimant, pending_claim):
    services.claim_withdraw(actor=actor_for_user(claimant), claim_id=pending_claim.pk)
    client = as_actor(actor)
    before = counts()
    assert client.get(f"/staff/claims/{pending_claim.pk}/").status_code == 404
    response = client.post(f"/staff/claims/{pending_claim.pk}/", {"decision": "approve", "reason": ""})
    assert response.status_code == 404
    pending_claim.refresh_from_db()
    assert pending_claim.status == EntityClaim.Status.WITHDRAWN
    assert not EntityMembership.objects.filter(user=claimant).exists()
    assert counts() == before


# ---------------------------------------------------------------------------------------------
# Staff: the working-day calendar (anyone on staff reads, the credit office edits)
# ---------------------------------------------------------------------------------------------

CALENDAR_DAY = {"day-date": "2031-03-04", "day-kind": "holiday", "day-name_zh": "测试假日", "day-name_en": ""}


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("token_read_write", 302),
        ("entity_user", 403),
        ("clerk", 403),
        ("reviewer", 403),
        ("department_admin", 403),
        ("other_department_reviewer", 403),
        ("credit_officer", 302),
    ],
)
def test_calendar_edit(as_actor, actor, expected):
    client = as_actor(actor)
    before = counts()
    response = client.post("/staff/calendar/", CALENDAR_DAY)
    assert response.status_code == expected
    if actor == "credit_officer":
        assert response["Location"] == "/staff/calendar/?year=2031"
        assert CalendarDay.objects.filter(date=date(2031, 3, 4), kind="holiday").exists()
        # ... and the entry can be removed again, by the credit office only.
        assert as_actor("department_admin").post("/staff/calendar/2031-03-04/remove/").status_code == 403
        assert CalendarDay.objects.filter(date=date(2031, 3, 4)).exists()
        assert client.post("/staff/calendar/2031-03-04/remove/").status_code == 302
        assert not CalendarDay.objects.filter(date=date(2031, 3, 4)).exists()
    else:
        if expected == 302:
            assert_login_redirect(response, "staff")
        assert counts() == before


# ---------------------------------------------------------------------------------------------
# Self-service pages
# ---------------------------------------------------------------------------------------------

# Not entity users: the self-service door sends to its sign-in page or refuses.
MY_OUTSIDERS = {
    "anonymous": 302,
    "token_read_write": 302,
    "clerk": 403,
    "reviewer": 403,
    "other_department_reviewer": 403,
    "credit_officer": 403,
}
MY_GET = {
    "/my/": {"entity_user": 200, "other_entity_user": 200},
    "/my/claim/": {"entity_user": 200, "other_entity_user": 200},
    "/my/entities/{code}/": {"entity_user": 200, "other_entity_user": 404},
}


@pytest.mark.parametrize(("url", "actor", "expected"), _cases(MY_GET, MY_OUTSIDERS))
def test_my_pages(as_actor, url, actor, expected, entity, legal_rep_id):
    client = as_actor(actor)
    before = counts()
    response = client.get(url.format(code=entity.code))
    assert response.status_code == expected
    if expected == 302:
        assert_login_redirect(response, "my")
    if expected in (403, 404):
        assert entity.name_zh not in text(response)
    if "entities" in url and expected == 200:
        assert entity.name_zh in text(response)
        assert mask_identity_number(legal_rep_id) in text(response)
    assert legal_rep_id not in text(response)
    assert counts() == before


def test_my_entity_of_someone_else_looks_like_a_missing_one(as_actor, entity):
    client = as_actor("other_entity_user")
    hidden = client.get(f"/my/entities/{entity.code}/")
    missing = client.get(f"/my/entities/{MISSING_CODE}/")
    assert hidden.status_code == missing.status_code == 404
    assert same_page(hidden, missing, entity.code, MISSING_CODE)


def test_my_home_lists_only_own_entities(as_actor, entity, other_entity):
    response = as_actor("entity_user").get("/my/")
    assert entity.name_zh in text(response)
    assert other_entity.name_zh not in text(response)


def test_a_pending_claim_gives_no_access_to_the_entity(as_actor, pending_claim, entity):
    response = as_actor("claimant").get(f"/my/entities/{entity.code}/")
    assert response.status_code == 404
    assert entity.name_zh not in text(response)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("token_read_write", 302),
        ("clerk", 403),
        ("reviewer", 403),
        ("entity_user", 404),
        ("other_entity_user", 404),
    ],
)
def test_withdraw_someone_elses_claim_is_denied(as_actor, actor, expected, pending_claim, entity):
    client = as_actor(actor)
    before = counts()
    response = client.post(f"/my/claims/{pending_claim.pk}/withdraw/")
    assert response.status_code == expected
    if expected == 302:
        assert_login_redirect(response, "my")
    else:
        assert entity.name_zh not in text(response)
    pending_claim.refresh_from_db()
    assert pending_claim.status == EntityClaim.Status.PENDING
    assert pending_claim.decided_at is None
    assert counts() == before
    if expected == 404:
        missing = client.post("/my/claims/999999/withdraw/")
        assert missing.status_code == 404
        assert same_page(response, missing, str(pending_claim.pk), "999999")


def test_withdraw_own_claim(as_actor, pending_claim):
    response = as_actor("claimant").post(f"/my/claims/{pending_claim.pk}/withdraw/")
    assert response.status_code == 302
    assert response["Location"] == "/my/"
    pending_claim.refresh_from_db()
    assert pending_claim.status == EntityClaim.Status.WITHDRAWN


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("token_read_write", 302),
        ("clerk", 403),
        ("credit_officer", 403),
        ("claimant", 302),
    ],
)
def test_submit_claim(as_actor, actor, expected, other_entity):
    client = as_actor(actor)
    before = counts()
    response = client.post("/my/claim/", {"code": other_entity.code, "role": "agent", "statement": ""})
    assert response.status_code == expected
    if actor == "claimant":
        assert response["Location"] == "/my/"
        claim = EntityClaim.objects.get(entity=other_entity, status="pending")
        assert claim.user.username == "claimant"
        assert not EntityMembership.objects.filter(user=claim.user).exists()
    else:
        if expected == 302:
            assert_login_redirect(response, "my")
        assert counts() == before


# ---------------------------------------------------------------------------------------------
# No query per row on the list pages
# ---------------------------------------------------------------------------------------------


def _fill_registry(department, other_department, start: int, stop: int) -> None:
    for n in range(start, stop):
        f.entity(
            department if n % 2 else other_department,
            code=f.uscc(n=1000 + n),
            name_zh=f"深圳市测试第{n}科技有限公司",
            name_en=f"Shenzhen Test Number {n} Technology Co., Ltd.",
            legal_representative=services.PersonInput(
                name="张某", id_type="resident_id", id_number=f.resident_id(seq=f"{n:03d}")
            ),
        )


def _queries(client, url: str, params: dict, rows: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) == rows
    return len(ctx.captured_queries)


# (url, params, actor, page size, query bound). Staff pages: session, user, count, page, and the
# dashboard-free chrome.
LIST_PAGES = [
    pytest.param("/staff/entities/", {}, "clerk", 50, 6, id="staff-registry"),
    pytest.param("/staff/entities/", {"q": "测试"}, "clerk", 50, 6, id="staff-registry-search"),
    pytest.param("/staff/entities/", {}, "credit_officer", 50, 6, id="staff-registry-credit-office"),
    # The public search lists published records: its query counts are checked in test_public_search.py.
]


@pytest.mark.parametrize(("url", "params", "actor", "page_size", "bound"), LIST_PAGES)
def test_list_pages_make_no_query_per_row(
    as_actor,
    django_assert_max_num_queries,
    url,
    params,
    actor,
    page_size,
    bound,
    department,
    other_department,
):
    client = as_actor(actor)
    _fill_registry(department, other_department, 0, 5)
    # A first page fills what each process keeps for every page (the deadline the footer states).
    _queries(client, url, params, 5)
    few = _queries(client, url, params, 5)
    _fill_registry(department, other_department, 5, 30)
    with django_assert_max_num_queries(bound):
        many = _queries(client, url, params, min(30, page_size))
    assert few == many
