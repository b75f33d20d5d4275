import re

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from credit_portal.i18n import CJK_TEXT, has_cjk, punctuation

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
    if "<p>" in text:  # paragraphs (``linebreaks``): a block around them
        return format_html('<div lang="zh-Hans">{}</div>', text)
    return format_html('<span lang="zh-Hans">{}</span>', text)


@register.filter
def action_label(code: str) -> str:
    """An audit action as a page names it: its label in the reader's language, its code (what the
    audit filter takes) as the tooltip (``credit_portal.audit.labels``)."""
    from credit_portal.audit.labels import action_labels

    return format_html('<span class="audit-action" title="{}">{}</span>', code, action_labels.label(code))


_CJK = CJK_TEXT.pattern.strip("[]")
_CJK_RUN = re.compile(rf"[{_CJK}](?:[^\s<>]*[{_CJK}])?")


@register.filter(is_safe=True)
def zh_runs(value, in_reader_language=True) -> str:
    """Text the system wrote in the reader's language around quoted Chinese (a notice naming an
    entity, an audit event's stored data): each stretch of Chinese in it marked ``lang="zh-Hans"``.
    Only for text that is in the reader's language otherwise: ``in_reader_language`` false (a
    notice without an English text read in English) leaves the text unmarked, as what it is."""
    if value is None:
        return ""
    text = str(value)
    if not in_reader_language:
        return conditional_escape(text)
    out, last = [], 0
    for match in _CJK_RUN.finditer(text):
        out.append(conditional_escape(text[last : match.start()]))
        out.append(format_html('<span lang="zh-Hans">{}</span>', match.group(0)))
        last = match.end()
    out.append(conditional_escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above


@register.simple_tag
def punct(mark: str) -> str:
    """``{% punct "(" %}``: the mark in the active language (``credit_portal.i18n.punctuation``)."""
    return punctuation(mark)
