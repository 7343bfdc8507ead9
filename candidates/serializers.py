"""Serializers of the coordinators' REST API.

Input serializers check the shape of input, mirroring the web forms (candidates/forms.py); the
services check the rules again. Output serializers only read. Nothing here saves: the API views
hand `validated_data` to the services.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from programs.models import CoreTechnology, DegreeTrack, IntakeRound, RoundMilestone

from .eligibility import reason_text
from .forms import LANGUAGE_SCORE_RANGES
from .models import Nomination, NominationCourse, NominationDocument
from .selectors import NominationOutcome, OutcomeCode, nomination_outcomes
from .services import nomination_missing_parts

# Ids are 64-bit in every supported database; a larger number can name nothing.
MAX_ID = 2**63 - 1
MAX_COURSES = 30
# As PersonForm.clean_passport_number, written as a pattern so that the schema shows it.
PASSPORT_CHARACTERS = RegexValidator(r"^(?:[^\W_]|[ -])+$", _(
    "Use only letters, digits, spaces and hyphens."))


def _json_type_error(field: serializers.Field, value) -> str | None:
    """Why `value` is not of the JSON type the schema gives `field`, or None if it is."""
    if value is None:
        return None  # whether null is allowed is the field's own check
    if isinstance(field, serializers.BooleanField):
        valid, expected = isinstance(value, bool), _("true or false")
    elif isinstance(field, serializers.IntegerField):
        valid, expected = isinstance(value, int) and not isinstance(value, bool), _("an integer")
    elif isinstance(field, serializers.CharField | serializers.ChoiceField
                    | serializers.DecimalField | serializers.DateField
                    | serializers.DateTimeField):
        # Decimals and dates are documented as strings, as DRF writes them.
        valid, expected = isinstance(value, str), _("a string")
    elif isinstance(field, serializers.ListField) and isinstance(value, list):
        return next(filter(None, (_json_type_error(field.child, item) for item in value)), None)
    else:
        return None
    return None if valid else _("Expected %(type)s.") % {"type": expected}


class JsonTypedSerializer(serializers.Serializer):
    """A JSON body read with the types its schema documents. DRF is lenient (5 for a string,
    "5" for an integer, "yes" for a boolean); here such values are refused, so that what the
    published schema refuses the API refuses too. Forms and multipart bodies are left alone."""

    def to_internal_value(self, data):
        if isinstance(data, dict) and not hasattr(data, "getlist"):
            errors = {name: [error] for name, field in self.fields.items()
                      if not field.read_only and name in data
                      and (error := _json_type_error(field, data[name]))}
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class QueryParamsSerializer(serializers.Serializer):
    """Query parameters, read strictly: `?status=` is refused like any value outside the
    documented ones, rather than read as if the parameter were absent (DRF's default for
    optional fields)."""

    def to_internal_value(self, data):
        blank = {name: [_("This field may not be blank.")] for name, field in self.fields.items()
                 if data.get(name) == "" and not getattr(field, "allow_blank", False)}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


# --- rounds and tracks ------------------------------------------------------------------------

class RoundFilterSerializer(QueryParamsSerializer):
    phase = serializers.ChoiceField(choices=IntakeRound.Phase.choices, required=False,
                                    help_text=_("Only rounds in this phase now."))


class ProgramSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    country = serializers.CharField(source="country.code", read_only=True)
    industry = serializers.CharField(read_only=True)


class CoreTechnologySerializer(serializers.ModelSerializer):
    class Meta:
        model = CoreTechnology
        fields = ["id", "name"]
        read_only_fields = fields


class RoundSerializer(serializers.ModelSerializer):
    """An intake round with this coordinator's university's quota in it."""

    program = ProgramSummarySerializer(read_only=True)
    phase = serializers.ChoiceField(choices=IntakeRound.Phase.choices, read_only=True)
    nominations_open = serializers.SerializerMethodField()
    nominations_close = serializers.SerializerMethodField()
    quota = serializers.IntegerField(read_only=True,
                                     help_text=_("Nominations your university may submit."))
    quota_used = serializers.IntegerField(read_only=True)
    quota_left = serializers.IntegerField(read_only=True)
    core_technologies = CoreTechnologySerializer(
        source="program.core_technologies", many=True, read_only=True,
        help_text=_("The ids to link related courses to."),
    )

    class Meta:
        model = IntakeRound
        fields = ["id", "name", "program", "phase", "nominations_open", "nominations_close",
                  "preference_limit", "quota", "quota_used", "quota_left", "core_technologies"]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_nominations_open(self, obj: IntakeRound):
        value = obj.milestone_dates().get(RoundMilestone.Kind.NOMINATIONS_OPEN)
        return serializers.DateTimeField().to_representation(value) if value else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_nominations_close(self, obj: IntakeRound):
        value = obj.nominations_close_at
        return serializers.DateTimeField().to_representation(value) if value else None


class TrackSerializer(serializers.ModelSerializer):
    """A degree track offered in a round, with its seats in that round."""

    seats = serializers.IntegerField(source="round_seats", read_only=True,
                                     help_text=_("Seats offered in this round."))
    wanted_technologies = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = DegreeTrack
        fields = ["id", "level", "major", "department", "campus", "supervisor_name",
                  "language_of_instruction", "seats", "wanted_technologies", "wanted_keywords"]
        read_only_fields = fields


# --- nominations: input -----------------------------------------------------------------------

class NominationFilterSerializer(QueryParamsSerializer):
    round = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                     help_text=_("Only nominations for this intake round (id)."))
    status = serializers.ChoiceField(choices=Nomination.Status.choices, required=False)
    outcome = serializers.ChoiceField(
        choices=OutcomeCode.choices, required=False,
        help_text=_("Only nominations with this outcome (see `outcome.code`)."))
    q = serializers.CharField(required=False, allow_blank=True, max_length=100,
                              help_text=_("Search in names, email and major."))


class CourseInputSerializer(JsonTypedSerializer):
    name = serializers.CharField(max_length=200)
    grade = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    technologies = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False,
        default=list, max_length=50,
        help_text=_("Ids of the program's core technologies the course covers."),
    )


class NominationWriteSerializer(JsonTypedSerializer, serializers.ModelSerializer):
    """The editable fields of a nomination, its ranked tracks and its related courses.

    On create `round` is required; on update every field is optional and only the fields sent
    are changed. `preferences` and `courses`, when sent, replace what is stored.
    """

    passport_number = serializers.CharField(
        max_length=40, required=False, write_only=True, validators=[PASSPORT_CHARACTERS],
        help_text=_("Stored encrypted; reads show `passport_masked`. Omit it to keep the number "
                    "on file."),
    )
    nationality = serializers.ChoiceField(choices=list(countries), required=False,
                                          allow_blank=True)
    candidate_language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    university_rank = serializers.IntegerField(
        min_value=1, max_value=999, required=False, allow_null=True,
        help_text=_("1 is your strongest nominee in this round."),
    )
    research_interests = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    preferences = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False,
        max_length=20,
        help_text=_("Degree track ids in order of preference (first = rank 1); the tracks "
                    "must be offered in the round."),
    )
    courses = CourseInputSerializer(many=True, required=False, max_length=MAX_COURSES)

    class Meta:
        model = Nomination
        fields = [
            "family_name", "given_names", "native_name", "date_of_birth", "nationality",
            "email", "phone", "passport_number", "candidate_language",
            "degree", "degree_status", "major", "institution", "gpa", "gpa_scale",
            "language_test", "language_score", "language_test_date",
            "research_interests", "university_rank", "preferences", "courses",
        ]
        extra_kwargs = {name: {"required": False} for name in fields}

    def __init__(self, *args, intake_round: IntakeRound | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.intake_round = intake_round

    # Field checks, as in PersonForm, StudiesForm and LanguageForm.

    def validate_passport_number(self, value: str) -> str:
        return value.strip().upper()

    def validate_date_of_birth(self, value):
        if value and value >= timezone.localdate():
            raise serializers.ValidationError(_("The date of birth must be in the past."))
        return value

    def validate_language_test_date(self, value):
        if value and value > timezone.localdate():
            raise serializers.ValidationError(_("The test date cannot be in the future."))
        return value

    def _merged(self, attrs: dict, name: str):
        # A partial update is checked against what is stored for the fields not sent.
        if name in attrs:
            return attrs[name]
        return getattr(self.instance, name) if self.instance is not None else None

    def validate(self, attrs: dict) -> dict:
        if "round" in attrs:
            # Preferences and courses are checked against the round being nominated for.
            self.intake_round = attrs["round"]
        errors: dict = {}
        gpa, scale = self._merged(attrs, "gpa"), self._merged(attrs, "gpa_scale")
        if gpa is not None and not scale:
            errors["gpa_scale"] = _("Choose the scale the GPA is given on.")
        elif gpa is not None and gpa < 0:
            errors["gpa"] = _("The GPA cannot be negative.")
        elif gpa is not None and gpa > Decimal(scale):
            errors["gpa"] = _("On a %(scale)s-point scale the GPA cannot exceed %(scale)s.") % {
                "scale": scale}

        test = self._merged(attrs, "language_test")
        language_sent = attrs.keys() & {"language_test", "language_score", "language_test_date"}
        if test == Nomination.LanguageTest.NONE and language_sent:
            # As LanguageForm: without a test there is no score or date.
            attrs["language_score"] = None
            attrs["language_test_date"] = None
        score = self._merged(attrs, "language_score")
        if test in LANGUAGE_SCORE_RANGES and score is not None:
            low, high = LANGUAGE_SCORE_RANGES[test]
            if not low <= score <= high:
                errors["language_score"] = _(
                    "A %(test)s score is between %(low)s and %(high)s."
                ) % {"test": Nomination.LanguageTest(test).label, "low": low, "high": high}

        if "preferences" in attrs:
            try:
                attrs["preferences"] = self._tracks(attrs["preferences"])
            except serializers.ValidationError as error:
                errors["preferences"] = error.detail
        if "courses" in attrs:
            try:
                attrs["courses"] = self._courses(attrs["courses"])
            except serializers.ValidationError as error:
                errors["courses"] = error.detail
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def _tracks(self, ids: list[int]) -> list[DegreeTrack]:
        intake_round = self.intake_round
        if intake_round is None:
            raise serializers.ValidationError(_("Choose the round first."))
        seen: set[int] = set()
        for track_id in ids:
            if track_id in seen:
                raise serializers.ValidationError(_(
                    "Track %(id)s is ranked twice. Rank each degree track at most once."
                ) % {"id": track_id})
            seen.add(track_id)
        if len(ids) > intake_round.preference_limit:
            raise serializers.ValidationError(_(
                "At most %(limit)s degree tracks can be ranked in this round."
            ) % {"limit": intake_round.preference_limit})
        offered = {track.pk: track for track in DegreeTrack.objects.filter(
            round_tracks__intake_round=intake_round, pk__in=seen)}
        unknown = [track_id for track_id in ids if track_id not in offered]
        if unknown:
            raise serializers.ValidationError(_(
                "Not a degree track offered in %(round)s: %(ids)s."
            ) % {"round": intake_round, "ids": ", ".join(str(i) for i in unknown)})
        return [offered[track_id] for track_id in ids]

    def _courses(self, courses: list[dict]) -> list[dict]:
        intake_round = self.intake_round
        if intake_round is None:
            raise serializers.ValidationError(_("Choose the round first."))
        # On a PATCH nested fields are partial too: defaults and "required" are applied here.
        courses = [{"name": course.get("name", ""), "grade": course.get("grade", ""),
                    "technologies": course.get("technologies", [])} for course in courses]
        if any(not course["name"].strip() for course in courses):
            raise serializers.ValidationError(_("Give every course a name."))
        wanted = {tech_id for course in courses for tech_id in course["technologies"]}
        known = {tech.pk: tech for tech in CoreTechnology.objects.filter(
            program_id=intake_round.program_id, pk__in=wanted)}
        unknown = sorted(wanted - known.keys())
        if unknown:
            raise serializers.ValidationError(_(
                "Not a core technology of this program: %(ids)s."
            ) % {"ids": ", ".join(str(i) for i in unknown)})
        return [{"name": course["name"], "grade": course["grade"],
                 "technologies": [known[tech_id] for tech_id in course["technologies"]]}
                for course in courses]

    def service_data(self) -> dict:
        """The scalar fields sent, for nomination_create / nomination_update."""
        return {name: value for name, value in self.validated_data.items()
                if name not in ("round", "preferences", "courses")}


class NominationCreateSerializer(NominationWriteSerializer):
    round = serializers.IntegerField(min_value=1, max_value=MAX_ID,
                                     help_text=_("The intake round (id) to nominate for."))

    class Meta(NominationWriteSerializer.Meta):
        fields = ["round", *NominationWriteSerializer.Meta.fields]
        extra_kwargs = {**NominationWriteSerializer.Meta.extra_kwargs,
                        "family_name": {"required": True}}

    def __init__(self, *args, rounds: dict[int, IntakeRound] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rounds = rounds or {}

    def validate_round(self, value: int) -> IntakeRound:
        intake_round = self.rounds.get(value)
        if intake_round is None:
            raise serializers.ValidationError(_(
                "Not an intake round your university takes part in."
            ))
        return intake_round


class WithdrawSerializer(JsonTypedSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=NominationDocument.Kind.choices)
    file = serializers.FileField(help_text=_("PDF, JPEG or PNG, checked by its content."))


# --- nominations: output ----------------------------------------------------------------------

class DocumentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = NominationDocument
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "created_at",
                  "download_url"]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_download_url(self, obj: NominationDocument) -> str:
        path = reverse("api:document_download", args=[obj.nomination_id, obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class PreferenceSerializer(serializers.Serializer):
    rank = serializers.IntegerField(read_only=True)
    track = serializers.IntegerField(source="track_id", read_only=True)
    track_name = serializers.CharField(source="track", read_only=True)


class CourseSerializer(serializers.ModelSerializer):
    technologies = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = NominationCourse
        fields = ["name", "grade", "technologies"]
        read_only_fields = fields


class MissingPartSerializer(serializers.Serializer):
    section = serializers.CharField(read_only=True)
    message = serializers.CharField(read_only=True)


OUTCOME_CODES_HELP = _(
    "What became of the nomination, as far as it is known; new codes may be added (an offer's "
    "states, once offers exist), existing ones never change meaning. "
    "`draft`: not submitted. `awaiting_consent`: submitted, the candidate has not confirmed "
    "consent (once the round is decided: never did). `submitted`: consent given, awaiting the "
    "cohort decision. `not_eligible`: see `reasons`. `not_placed`: the approved cohort has no "
    "seat for the candidate; see `reasons`. `admitted`: admitted to `track` in the approved "
    "cohort. `mentor_accepted`: admitted, and a mentor accepted. `enrolled`, `on_leave`, "
    "`graduated` (`detail`: the alumni path, when known): as a UST-KITECH student. "
    "`withdrawn`: the nomination was withdrawn, or the student withdrew from the studies.")


# Said apart from the codes above, whose words are translated already.
OFFER_CODES_HELP = _(
    "The offer to an admitted candidate: `offered` (waiting for their answer, due by "
    "`offer_deadline`), `offer_accepted`, `offer_declined` (`detail`: the reason they chose), "
    "`offer_lapsed` (not answered by the deadline), `no_show` (accepted, but did not take up the "
    "place); `admitted` remains for an admission made before offers existed.")


class OutcomeSerializer(serializers.Serializer):
    """A nomination's outcome: a stable code, and its words in the request's language."""

    code = serializers.ChoiceField(choices=OutcomeCode.choices, read_only=True,
                                   help_text=format_lazy("{} {}", OUTCOME_CODES_HELP,
                                                         OFFER_CODES_HELP))
    label = serializers.CharField(read_only=True, help_text=_("The code in words."))
    detail = serializers.CharField(read_only=True, help_text=_(
        "One line more: the track, the alumni path, or what is awaited; may be empty."))
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=_(
        "Why not eligible, or why not placed, in words."))
    track = serializers.IntegerField(source="track_id", read_only=True, allow_null=True,
                                     help_text=_("The degree track (id) admitted to."))
    offer_deadline = serializers.DateTimeField(read_only=True, allow_null=True, help_text=_(
        "While the outcome is `offered`: when the candidate's answer is due; otherwise null."))


# One instance for every row: a serializer made per row would build its fields each time (a
# page of 50 nominations spent a third of its time there). Its fields keep no state per row,
# and the words are read from the outcome in the language of the request being served.
_OUTCOME_FIELDS = OutcomeSerializer()


@extend_schema_field({"type": "string", "format": "email", "nullable": True})
class DraftEmailField(serializers.EmailField):
    """A draft may have no email address yet: it reads as null, not as "" (which is no email
    address, so the documented format would not hold)."""

    def to_representation(self, value):
        return value or None


class NominationListSerializer(serializers.ModelSerializer):
    """Drafts may leave choices blank: those fields read "" (documented beside their choices)."""

    round = serializers.IntegerField(source="intake_round_id", read_only=True)
    round_name = serializers.CharField(source="intake_round.name", read_only=True)
    nationality = serializers.CharField(source="nationality.code", read_only=True)
    preferences = serializers.SerializerMethodField(
        help_text=_("Degree track ids in order of preference."))
    outcome = serializers.SerializerMethodField(help_text=_(
        "What became of the nomination. Read `status` for the nomination itself (draft, "
        "submitted, withdrawn), `outcome` for where it led."))

    class Meta:
        model = Nomination
        fields = [
            "id", "round", "round_name", "status", "family_name", "given_names",
            "display_name", "nationality", "email", "major", "university_rank", "preferences",
            "is_eligible", "consent_requested_at", "consent_given_at", "submitted_at",
            "withdrawn_at", "created_at", "updated_at", "outcome",
        ]
        read_only_fields = fields

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping, models.EmailField: DraftEmailField}

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        # DRF drops allow_blank from read-only fields; keep it, so that the schema shows that a
        # draft's choice may be "".
        allow_blank = kwargs.get("allow_blank", False)
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if allow_blank and "choices" in kwargs:
            kwargs["allow_blank"] = True
        return kwargs

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_preferences(self, obj: Nomination) -> list[int]:
        # Uses the selector's prefetch, ordered by rank.
        return [preference.track_id for preference in obj.preferences.all()]

    @extend_schema_field(OutcomeSerializer)
    def get_outcome(self, obj: Nomination) -> dict:
        # The views read the outcomes of a whole page at once; one alone costs a few queries.
        outcome: NominationOutcome = getattr(obj, "outcome", None) or nomination_outcomes(
            [obj])[obj.pk]
        return _OUTCOME_FIELDS.to_representation(outcome)


class NominationDetailSerializer(NominationListSerializer):
    """A nomination as its coordinator sees it. The passport number is only shown masked."""

    university = serializers.CharField(source="university.name", read_only=True)
    preference_tracks = PreferenceSerializer(source="preferences", many=True, read_only=True)
    courses = CourseSerializer(many=True, read_only=True)
    documents = DocumentSerializer(many=True, read_only=True)
    missing = serializers.SerializerMethodField(
        help_text=_("What must still be filled in before submitting."))
    eligibility_reasons = serializers.SerializerMethodField()

    class Meta(NominationListSerializer.Meta):
        fields = [
            "id", "round", "round_name", "university", "status",
            "family_name", "given_names", "native_name", "display_name", "date_of_birth",
            "nationality", "email", "phone", "passport_masked", "candidate_language",
            "degree", "degree_status", "major", "institution", "gpa", "gpa_scale",
            "gpa_normalised", "language_test", "language_score", "language_test_date",
            "research_interests", "university_rank", "preferences", "preference_tracks",
            "courses", "documents", "missing", "is_eligible", "eligibility_reasons",
            "eligibility_checked_at", "consent_requested_at", "consent_given_at",
            "submitted_at", "withdrawn_at", "created_at", "updated_at", "outcome",
        ]
        read_only_fields = fields

    @extend_schema_field(MissingPartSerializer(many=True))
    def get_missing(self, obj: Nomination) -> list[dict]:
        return [{"section": section, "message": str(message)}
                for section, message in nomination_missing_parts(obj)]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_eligibility_reasons(self, obj: Nomination) -> list[str]:
        return [reason_text(reason) for reason in obj.eligibility_reasons or []]


# --- errors, for the schema -------------------------------------------------------------------

class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    """Messages per field name; `detail` holds the messages that belong to no single field."""

    detail = serializers.ListField(child=serializers.CharField(), required=False)
