"""How every form is drawn (``templates/includes/form.html``, ``form_errors.html``, ``field.html``):
the error summary names each field once, with all its messages, and links to an element that is on
the page (a group's first option); errors of no one field are listed too; groups of options are
fieldsets with a legend; a field required only in some cases says when, and its input is described
by that text."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import translation

from credit_portal.web.rendering import required_if

pytestmark = pytest.mark.django_db


class Markup(HTMLParser):
    """The ids of a page, the links of its error summary, its fieldsets with their legends."""

    def __init__(self, html: str):
        super().__init__()
        self.ids: dict[str, tuple[str, dict]] = {}
        self.summary_links: list[tuple[str, str]] = []
        self.summary_items: list[str] = []
        self.summaries: list[dict] = []
        self.fieldsets: list[dict] = []
        self._stack: list[str] = []
        self._in_summary = 0
        self._link: list | None = None
        self._item: list | None = None
        self._legend: list | None = None
        self.scripts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            assert attrs["id"] not in self.ids, f"id {attrs['id']} twice"
            self.ids[attrs["id"]] = (tag, attrs)
        if tag == "script":
            self.scripts.append(attrs.get("src", "inline"))
        if "data-error-summary" in attrs:
            self.summaries.append(attrs)
            self._in_summary = len(self._stack) + 1
        if self._in_summary and tag == "li":
            self._item = []
        if self._in_summary and tag == "a":
            self._link = [attrs["href"], ""]
        if tag == "fieldset":
            self.fieldsets.append({"attrs": attrs, "legend": None, "inputs": []})
        if tag == "legend":
            self._legend = []
        if tag == "input" and self.fieldsets and attrs.get("type") in ("radio", "checkbox"):
            self.fieldsets[-1]["inputs"].append(attrs.get("id"))
        if tag not in ("input", "br", "meta", "link", "img"):
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if self._in_summary and tag == "a" and self._link is not None:
            self.summary_links.append((self._link[0], self._link[1].strip()))
            self._link = None
        if self._in_summary and tag == "li" and self._item is not None:
            self.summary_items.append("".join(self._item).strip())
            self._item = None
        if tag == "legend" and self._legend is not None:
            self.fieldsets[-1]["legend"] = "".join(self._legend).strip()
            self._legend = None
        if self._stack:
            self._stack.pop()
        if self._in_summary and len(self._stack) < self._in_summary:
            self._in_summary = 0

    def handle_data(self, data):
        if self._link is not None:
            self._link[1] += data
        if self._item is not None:
            self._item.append(data)
        if self._legend is not None:
            self._legend.append(data)


class SampleForm(forms.Form):
    name = forms.CharField(label="Name", max_length=5, help_text="As written.")
    kind = forms.ChoiceField(label="Kind", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    scopes = forms.MultipleChoiceField(
        label="Scopes", choices=[("x", "X"), ("y", "Y")], widget=forms.CheckboxSelectMultiple
    )
    reason = required_if(forms.CharField(label="Reason", required=False), "Required when rejecting.")
    token = forms.CharField(widget=forms.HiddenInput, required=False)


def broken_form() -> SampleForm:
    form = SampleForm({"name": "far too long", "reason": ""})
    assert not form.is_valid()
    form.add_error("name", "Not a name.")  # a second message on the same field
    form.add_error("reason", "Say why.")
    form.add_error(None, "The record changed meanwhile.")
    return form


def rendered(form) -> Markup:
    with translation.override("en"):
        return Markup(render_to_string("includes/form.html", {"form": form}))


def test_the_summary_names_each_field_once_with_every_message():
    page = rendered(broken_form())
    labels = [text.split(":")[0] for _href, text in page.summary_links]
    assert labels == ["Name", "Kind", "Scopes", "Reason"]
    assert page.summary_links[0] == (
        "#id_name",
        "Name: Ensure this value has at most 5 characters (it has 12). Not a name.",
    )
    assert page.summary_items[0] == "The record changed meanwhile."  # errors of no one field, listed too


def test_every_link_of_the_summary_reaches_an_element_of_the_form():
    page = rendered(broken_form())
    for href, _text in page.summary_links:
        assert href.startswith("#") and href[1:] in page.ids, href
    targets = {href[1:]: page.ids[href[1:]] for href, _text in page.summary_links}
    assert targets["id_kind_0"] == ("input", targets["id_kind_0"][1])  # a group's first option
    assert targets["id_kind_0"][1]["type"] == "radio"
    assert targets["id_scopes_0"][1]["type"] == "checkbox"
    assert targets["id_name"][0] == "input"


def test_the_summary_takes_the_focus_through_the_portals_script():
    page = rendered(broken_form())
    (summary,) = page.summaries
    assert summary["tabindex"] == "-1"
    assert page.scripts == ["/static/js/error-summary.js"]  # a file of the portal, no inline script


def test_no_summary_and_no_script_without_errors():
    page = rendered(SampleForm())
    assert page.summaries == [] and page.scripts == []


def test_groups_of_options_are_fieldsets_with_their_label_as_legend():
    page = rendered(broken_form())
    groups = {fs["legend"].rstrip(" *"): fs for fs in page.fieldsets}
    assert set(groups) == {"Kind", "Scopes"}
    assert groups["Kind"]["inputs"] == ["id_kind_0", "id_kind_1"]
    assert groups["Scopes"]["inputs"] == ["id_scopes_0", "id_scopes_1"]
    # The group is described by its error, as a single input is.
    assert groups["Kind"]["attrs"]["aria-describedby"] == "id_kind_error"
    assert page.ids["id_kind_error"][0] == "div"
    assert "label" not in {tag for tag, attrs in page.ids.values() if attrs.get("for") == ""}


def test_a_field_required_in_some_cases_says_when_and_describes_its_input():
    page = rendered(broken_form())
    _tag, attrs = page.ids["id_reason"]
    assert attrs["aria-describedby"] == "id_reason_requiredif id_reason_error"
    assert page.ids["id_reason_requiredif"][0] == "p"
    html = render_to_string("includes/form.html", {"form": SampleForm()})
    assert '<p class="required-if" id="id_reason_requiredif">Required when rejecting.</p>' in html
    # An input with help and errors is described by both, each once on the page.
    assert page.ids["id_name"][1]["aria-describedby"] == "id_name_helptext id_name_error"


def test_a_refusal_of_the_service_shows_in_the_same_summary():
    from credit_portal.web.submission import submit

    form = SampleForm({"name": "ok", "kind": "a", "scopes": ["x"]})

    def service(validate_only):
        raise ValidationError({"reason": ["Give the reason for rejecting the claim."]})

    submit(form, service)
    page = rendered(form)
    assert page.summary_links == [("#id_reason", "Reason: Give the reason for rejecting the claim.")]


def sent_empty(page_html: str) -> dict[str, str]:
    """What a browser sends for the page's form left empty: every text field and select, blank
    (radio buttons and checkboxes send nothing), the hidden fields as they are."""

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.data: dict[str, str] = {}

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            name = attrs.get("name")
            if not name or name in ("csrfmiddlewaretoken", "language", "next"):
                return
            if tag in ("textarea", "select") or (
                tag == "input" and attrs.get("type") not in ("radio", "checkbox", "submit", "hidden")
            ):
                self.data.setdefault(name, "")
            elif tag == "input" and attrs.get("type") == "hidden":
                self.data.setdefault(name, attrs.get("value", ""))

    parser = Fields()
    parser.feed(page_html)
    return parser.data


@pytest.mark.parametrize(
    ("url", "user_fixture"),
    [
        ("/staff/records/new/?item=admin_punishment", "reviewer"),
        ("/staff/entities/new/", "clerk"),
        ("/my/claim/", "entity_user"),
        ("/complaints/new/", None),
        ("/objections/new/", None),
    ],
)
def test_each_form_sent_back_empty_links_every_error_to_its_field(client_for, request, url, user_fixture):
    user = request.getfixturevalue(user_fixture) if user_fixture else None
    client = client_for(user)
    response = client.post(url, sent_empty(client.get(url).content.decode()))
    page = Markup(response.content.decode())
    assert page.summary_links, "no error summary"
    hrefs = [href for href, _text in page.summary_links]
    assert len(hrefs) == len(set(hrefs)), "a field named twice"
    for href in hrefs:
        assert href[1:] in page.ids, f"{href} leads nowhere"


def test_a_form_with_rows_has_one_summary_naming_each_rows_field(client_for, reviewer):
    """The matter form and its materials: one summary above the form, a row's field named with
    its row, each linking to its input."""
    data = {
        "code": "Bad Code",  # the service's: not lower-case letters and hyphens
        "name_zh": "",  # the form's
        "materials_due_days": "15",
        "statutory_days": "ten",  # the form's
        "materials-TOTAL_FORMS": "2",
        "materials-INITIAL_FORMS": "0",
        "materials-MIN_NUM_FORMS": "0",
        "materials-MAX_NUM_FORMS": "40",
        "materials-0-name_zh": "营业执照",
        "materials-1-name_zh": "",
        "materials-1-name_en": "Floor plan",  # the service's: the Chinese name is required
    }
    with translation.override("en"):
        response = client_for(reviewer).post("/staff/pledges/matters/new/", data)
    assert response.status_code == 400
    page = Markup(response.content.decode())
    assert len(page.summaries) == 1
    assert page.summary_links == [
        ("#id_code", "Code: Use 2–64 lower-case letters, digits and hyphens, e.g. food-business."),
        ("#id_name_zh", "Name (Chinese): This field is required."),
        ("#id_statutory_days", "Statutory time limit (working days): Enter a whole number."),
        ("#id_materials-1-name_zh", "Row 2, Material (Chinese): This field is required."),
    ]
    for href, _text in page.summary_links:
        assert href[1:] in page.ids
