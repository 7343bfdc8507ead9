"""Forms of the staff's student pages and of the alumni's update page: they check the shape of
input; services check the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from candidates.forms import DateInput
from programs.models import DegreeTrack, PartnerCompany

from .models import AlumniOutcome, Enrolment, ProgressMilestone


class AlumniOutcomeForm(forms.ModelForm):
    """Where a graduate went; used by staff and by the alumnus on the emailed link's page."""

    class Meta:
        model = AlumniOutcome
        fields = ["path", "organisation", "employer_type", "country", "region",
                  "cooperating_company", "cooperating_company_name", "offers_to_mentor",
                  "offers_partner_contact"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cooperating_company"].queryset = PartnerCompany.objects.filter(
            is_active=True).order_by("name")
        self.fields["path"].widget = forms.RadioSelect(choices=AlumniOutcome.Path.choices)

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class EnrolForm(forms.Form):
    semester = forms.CharField(label=_("First semester"), max_length=40,
                               help_text=_("e.g. 2027 Spring"))
    enrolled_on = forms.DateField(label=_("Enrolled on"), widget=DateInput())
    expected_graduation = forms.DateField(label=_("Expected graduation"), required=False,
                                          widget=DateInput())


class ProgressStepForm(forms.Form):
    kind = forms.ChoiceField(label=_("Step"), choices=[
        (k, label) for k, label in ProgressMilestone.Kind.choices
        if k != ProgressMilestone.Kind.ENROLLED])
    on = forms.DateField(label=_("Date"), widget=DateInput())
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    thesis_title = forms.CharField(label=_("Thesis title"), required=False, max_length=300,
                                   help_text=_("For a thesis submission or a graduation."))
    degree_awarded = forms.ChoiceField(
        label=_("Degree awarded"), required=False,
        choices=[("", _("As the track's level"))] + [
            (k, label) for k, label in DegreeTrack.Level.choices if k != "integrated"],
        help_text=_("Needed for graduates of integrated tracks."))

    def service_values(self) -> dict:
        return {"thesis_title": self.cleaned_data["thesis_title"].strip(),
                "degree_awarded": self.cleaned_data["degree_awarded"]}


class EnrolmentDetailsForm(forms.ModelForm):
    class Meta:
        model = Enrolment
        fields = ["semester", "campus", "supervisor_name", "expected_graduation", "thesis_title",
                  "career_wish", "preferred_region"]
        widgets = {"expected_graduation": DateInput()}
