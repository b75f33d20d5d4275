from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.http import urlencode

from credit_portal.i18n import has_cjk

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters changed (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.lists()), doseq=True) if params else "?"


@register.filter(is_safe=True)
def zh(value) -> str:
    """User data or a proper name that may be Chinese whatever the page's language (an entity's or a
    person's name, a decision number, what a record says, a file's column): marked
    ``lang="zh-Hans"`` when it has Chinese characters, so that a reader (and a screen reader) knows
    it is quoted, not the page's own text. Anything else is given as it is."""
    if value is None:
        return ""
    text = conditional_escape(value)
    if not has_cjk(value):
        return text
    return format_html('<span lang="zh-Hans">{}</span>', text)
