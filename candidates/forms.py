"""Forms of the coordinator pages: they check the shape of input; services check the rules."""

from decimal import Decimal

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from programs.models import CoreTechnology, DegreeTrack

from .models import Nomination, NominationDocument

LANGUAGE_SCORE_RANGES = {
    Nomination.LanguageTest.TOEFL_IBT: (Decimal(0), Decimal(120)),
    Nomination.LanguageTest.IELTS: (Decimal(0), Decimal(9)),
    Nomination.LanguageTest.TOPIK: (Decimal(1), Decimal(6)),
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PersonForm(forms.ModelForm):
    passport_number = forms.CharField(
        label=_("Passport number"), max_length=40, required=False,
        help_text=_("Stored encrypted and shown masked. Leave empty to keep the number on file."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = Nomination
        fields = ["family_name", "given_names", "native_name", "date_of_birth", "nationality",
                  "email", "phone", "passport_number", "candidate_language"]
        widgets = {"date_of_birth": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_passport = bool(self.instance.pk and self.instance.passport_number)
        if self.has_passport:
            self.initial["passport_number"] = ""
            self.fields["passport_number"].widget.attrs["placeholder"] = (
                self.instance.passport_masked
            )

    def clean_passport_number(self):
        value = self.cleaned_data["passport_number"].strip().upper()
        if value and not all(ch.isalnum() or ch in " -" for ch in value):
            raise forms.ValidationError(_("Use only letters, digits, spaces and hyphens."))
        return value

    def clean_date_of_birth(self):
        value = self.cleaned_data.get("date_of_birth")
        if value and value >= timezone.localdate():
            raise forms.ValidationError(_("The date of birth must be in the past."))
        return value

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        if not data["passport_number"] and self.has_passport:
            del data["passport_number"]  # empty means "keep what is on file"
        return data


class StudiesForm(forms.ModelForm):
    class Meta:
        model = Nomination
        fields = ["degree", "degree_status", "major", "institution", "gpa", "gpa_scale"]

    def clean(self):
        cleaned = super().clean()
        gpa, scale = cleaned.get("gpa"), cleaned.get("gpa_scale")
        if gpa is not None and not scale:
            self.add_error("gpa_scale", _("Choose the scale the GPA is given on."))
        if gpa is not None and scale and gpa > Decimal(scale):
            self.add_error("gpa", _("On a %(scale)s-point scale the GPA cannot exceed %(scale)s.")
                           % {"scale": scale})
        if gpa is not None and gpa < 0:
            self.add_error("gpa", _("The GPA cannot be negative."))
        return cleaned

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CourseForm(forms.Form):
    name = forms.CharField(label=_("Course"), max_length=200, required=False)
    grade = forms.CharField(label=_("Grade"), max_length=20, required=False)
    technologies = forms.ModelMultipleChoiceField(
        label=_("Core technologies it covers"), queryset=CoreTechnology.objects.none(),
        required=False, widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, technologies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if technologies is not None:
            self.fields["technologies"].queryset = technologies

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("technologies") and not cleaned.get("name"):
            self.add_error("name", _("Give the course a name."))
        return cleaned


CourseFormSet = forms.formset_factory(CourseForm, extra=3, max_num=30)


class LanguageForm(forms.ModelForm):
    class Meta:
        model = Nomination
        fields = ["language_test", "language_score", "language_test_date"]
        widgets = {"language_test_date": DateInput()}

    def clean(self):
        cleaned = super().clean()
        test, score = cleaned.get("language_test"), cleaned.get("language_score")
        test_date = cleaned.get("language_test_date")
        if test in LANGUAGE_SCORE_RANGES:
            low, high = LANGUAGE_SCORE_RANGES[test]
            if score is None:
                self.add_error("language_score", _("Give the score of the test."))
            elif not low <= score <= high:
                self.add_error("language_score", _(
                    "A %(test)s score is between %(low)s and %(high)s."
                ) % {"test": Nomination.LanguageTest(test).label, "low": low, "high": high})
            if test_date is None:
                self.add_error("language_test_date", _("Give the date of the test."))
        if test_date and test_date > timezone.localdate():
            self.add_error("language_test_date", _("The test date cannot be in the future."))
        return cleaned

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        if data["language_test"] == Nomination.LanguageTest.NONE:
            data["language_score"] = None
            data["language_test_date"] = None
        return data


class PreferencesForm(forms.Form):
    """Research interests, the university's own rank, and the ranked degree tracks."""

    research_interests = forms.CharField(
        label=_("Research interests"), widget=forms.Textarea(attrs={"rows": 4}), required=False,
        max_length=4000,
    )
    university_rank = forms.IntegerField(
        label=_("Your university's rank of this nominee"), min_value=1, max_value=999,
        required=False, help_text=_("1 is your strongest nominee in this round."),
    )

    def __init__(self, *args, tracks, limit: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = limit
        for rank in range(1, limit + 1):
            self.fields[f"choice_{rank}"] = forms.ModelChoiceField(
                label=_("Choice %(rank)s") % {"rank": rank}, queryset=tracks,
                required=False, empty_label=_("— none —"),
            )

    def clean(self):
        cleaned = super().clean()
        seen = {}
        for rank in range(1, self.limit + 1):
            track = cleaned.get(f"choice_{rank}")
            if track is None:
                continue
            if track.pk in seen:
                self.add_error(f"choice_{rank}", _(
                    "“%(track)s” is already your choice %(rank)s. Rank each track at most once."
                ) % {"track": track, "rank": seen[track.pk]})
            else:
                seen[track.pk] = rank
        return cleaned

    def tracks(self) -> list[DegreeTrack]:
        return [
            self.cleaned_data[f"choice_{rank}"] for rank in range(1, self.limit + 1)
            if self.cleaned_data.get(f"choice_{rank}") is not None
        ]


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=NominationDocument.Kind.choices)
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=500, required=False)


class InvitationAcceptForm(forms.Form):
    password1 = forms.CharField(label=_("Choose a password"), widget=forms.PasswordInput,
                                strip=False)
    password2 = forms.CharField(label=_("Repeat the password"), widget=forms.PasswordInput,
                                strip=False)

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                validate_password(first)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
