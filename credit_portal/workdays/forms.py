from django import forms
from django.utils.translation import gettext_lazy as _

from credit_portal.workdays.models import DeadlineRule


class DeadlineRuleForm(forms.Form):
    """A new rule taking effect on a date, or a correction of the rule with that key and date.
    Only keys that exist can be chosen: a new key means nothing until code asks for it, so new keys
    arrive with the code, in a migration."""

    key = forms.ChoiceField(label=_("Deadline"))
    working_days = forms.IntegerField(label=_("Working days"), min_value=1, max_value=365)
    effective_from = forms.DateField(
        label=_("Effective from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Deadlines starting on or after this date use the new number; earlier ones keep theirs."),
    )
    basis_zh = forms.CharField(label=_("Basis (Chinese)"), widget=forms.Textarea(attrs={"rows": 2}))
    basis_en = forms.CharField(label=_("Basis (English)"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        keys = DeadlineRule.objects.order_by("key").values_list("key", flat=True).distinct()
        self.fields["key"].choices = [(k, k) for k in keys]
