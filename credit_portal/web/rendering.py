"""How every form of the web doors is rendered (``templates/includes/field.html`` and
``form_errors.html`` read what is here).

- ``required_if(field, text)``: a field required only in some cases (when another field has some
  value, for some catalogue items). The form leaves it optional and the service refuses it empty
  in those cases; the page says when beside the label, and the input is described by that text.
- A group of radio buttons or checkboxes is a ``fieldset`` with its label as the ``legend``; the
  error summary links to its first option (``anchor``)."""

from __future__ import annotations

from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.forms.widgets import ChoiceWidget


def required_if(field, text):
    """Mark ``field`` as required in the case ``text`` names (e.g. "Required to reject.")."""
    field.required_if = text
    return field


class PortalBoundField(BoundField):
    @property
    def required_if(self):
        return getattr(self.field, "required_if", "")

    @property
    def required_if_id(self) -> str:
        return f"{self.auto_id}_requiredif" if self.auto_id else ""

    @property
    def aria_describedby(self):
        described = super().aria_describedby
        if described is None:  # the widget names its own
            return None
        if self.required_if and self.required_if_id and not self.is_hidden:
            return " ".join(filter(None, [self.required_if_id, described]))
        return described

    @property
    def anchor(self) -> str:
        """The id the error summary links to: the input, or a group's first option."""
        if self.use_fieldset and self.auto_id:
            widget = self.field.widget
            if isinstance(widget, ChoiceWidget):
                return widget.id_for_label(self.auto_id, "0") or self.auto_id
            return f"{self.auto_id}_0"  # a MultiWidget's first part
        return self.id_for_label or self.auto_id or ""


class PortalFormRenderer(DjangoTemplates):
    bound_field_class = PortalBoundField
