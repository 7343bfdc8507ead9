"""Forms of the mentor's pages: they check the shape of input; services check the rules."""

from django import forms
from django.conf import settings
from django.forms.renderers import TemplatesSetting
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from candidates.forms import DateInput
from programs.models import CoreTechnology

from .models import Mentor, MentoringActivity

SPOKEN_LANGUAGES = [
    ("ko", _("Korean")), ("en", _("English")), ("id", _("Indonesian")), ("vi", _("Vietnamese")),
    ("zh", _("Chinese")), ("ja", _("Japanese")),
]


class AnswerForm(forms.Form):
    """Accept or decline; a reason is optional and kept with a decline."""

    reason = forms.CharField(
        label=_("Reason for declining (optional)"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("It helps KITECH staff find a better match next time."),
    )


class FilterableCheckboxes(forms.CheckboxSelectMultiple):
    """A long list of choices as checkboxes in a scroll box, under a text box that narrows them
    as one types (static/js/filter-list.js and css/filter-list.css, which the page loads).
    Without script the filter box stays hidden and the checkboxes work alone."""

    template_name = "widgets/filterable_checkboxes.html"

    def __init__(self, *, legend, filter_label, attrs=None):
        super().__init__(attrs)
        self.legend, self.filter_label = legend, filter_label

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"].update(legend=self.legend, filter_label=self.filter_label)
        return context

    def _render(self, template_name, context, renderer=None):
        # Its template is one of ours (templates/widgets/), which the forms' default renderer,
        # looking in Django's own widget templates, does not see.
        return mark_safe(TemplatesSetting().render(template_name, context))


class ProfileForm(forms.ModelForm):
    languages_spoken = forms.MultipleChoiceField(
        label=_("Languages you can mentor in"), choices=SPOKEN_LANGUAGES,
        widget=forms.CheckboxSelectMultiple)
    travel_countries = forms.MultipleChoiceField(
        label=_("Countries you are willing to travel to"), required=False,
        choices=lambda: list(countries), widget=FilterableCheckboxes(
            legend=_("Countries you are willing to travel to"),
            filter_label=_("Filter the countries")))
    expertise = forms.ModelMultipleChoiceField(
        label=_("Your fields of expertise"), required=False,
        queryset=CoreTechnology.objects.select_related("program").order_by("program__name",
                                                                            "name"),
        widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Mentor
        fields = ["language", "expertise", "keywords", "languages_spoken", "travel_countries",
                  "capacity", "available_from", "available_until", "biography", "is_active"]
        widgets = {"available_from": DateInput(), "available_until": DateInput(),
                   "biography": forms.Textarea(attrs={"rows": 5})}
        labels = {"is_active": _("Active: I can take new mentees"),
                  "language": _("Language of our emails to you")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES
        if self.instance.pk:
            self.initial["languages_spoken"] = sorted(self.instance.language_codes)
            self.initial["travel_countries"] = [str(c) for c in self.instance.travel_countries]
        known = {code for code, _label in SPOKEN_LANGUAGES}
        extra = sorted(set(self.initial.get("languages_spoken") or []) - known)
        self.fields["languages_spoken"].choices = SPOKEN_LANGUAGES + [(c, c) for c in extra]
        self.fields["capacity"].widget.attrs.update(min=1, max=20)

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if capacity is not None and not 1 <= capacity <= 20:
            raise forms.ValidationError(_("Choose between 1 and 20 mentees."))
        return capacity

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("available_from"), cleaned.get("available_until")
        if start and end and end < start:
            self.add_error("available_until", _("The end of your availability must not be "
                                                "before its start."))
        return cleaned

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["languages_spoken"] = ",".join(data["languages_spoken"])
        data["expertise"] = list(data["expertise"])
        return data


class ActivityForm(forms.ModelForm):
    class Meta:
        model = MentoringActivity
        fields = ["date", "mode", "notes"]
        widgets = {"date": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}
