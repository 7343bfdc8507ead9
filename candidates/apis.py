"""The coordinators' REST API, version 1.

Thin, like the pages: reads through selectors (so another university's object is a 404), writes
through the same services as the web forms (a nomination with its preferences and courses
through nomination_save, one transaction), and lets the one exception handler
(ecocycle.exceptions.api_exception_handler) turn domain errors into JSON 400s.
"""

from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from ecocycle.parsers import BoundedJSONParser
from programs.models import DegreeTrack, IntakeRound

from . import selectors, services
from .models import Coordinator, Nomination, NominationDocument, NominationPreference
from .serializers import (
    DocumentSerializer,
    DocumentUploadSerializer,
    ErrorSerializer,
    NominationCreateSerializer,
    NominationDetailSerializer,
    NominationFilterSerializer,
    NominationListSerializer,
    NominationWriteSerializer,
    RoundFilterSerializer,
    RoundSerializer,
    TrackSerializer,
    ValidationErrorSerializer,
    WithdrawSerializer,
)


class IsCoordinator(BasePermission):
    """Partner-university coordinators only; staff use the admin, mentors their own page."""

    message = _("This API is for partner-university coordinators.")

    def has_permission(self, request, view) -> bool:
        return selectors.coordinator_for_user(request.user) is not None


ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No or an invalid token."),
    403: OpenApiResponse(ErrorSerializer, description="Not a university coordinator."),
    404: OpenApiResponse(ErrorSerializer, description="No such object of your university."),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests: wait for the seconds "
                                                      "in the Retry-After header."),
    503: OpenApiResponse(ErrorSerializer, description="The service is busy: try again after the "
                                                      "seconds in the Retry-After header."),
}
WRITE_ERRORS = {
    400: OpenApiResponse(ValidationErrorSerializer,
                         description="Invalid input or a refused change, with messages per "
                                     "field."),
    **ERRORS,
}


# DRF's CharField refuses NUL characters; the schema says so in a pattern on every string input
# that has no pattern, format or choices of its own.
NO_NUL_PATTERN = r"^[^\u0000]*$"


def _strings_refuse_nul(schema: dict) -> None:
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not {"pattern", "format", "enum"} & schema.keys():
        schema["pattern"] = NO_NUL_PATTERN
    for key in ("properties",):
        for child in schema.get(key, {}).values():
            _strings_refuse_nul(child)
    for key in ("items", "additionalProperties"):
        _strings_refuse_nul(schema.get(key))
    for key in ("allOf", "oneOf", "anyOf"):
        for child in schema.get(key, []):
            _strings_refuse_nul(child)


def schema_inputs_refuse_nul(result, generator, request, public):
    """drf-spectacular post-processing hook: input strings (request bodies, query parameters)
    are documented as refusing NUL characters, as DRF does."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _strings_refuse_nul(component)
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query":
                    _strings_refuse_nul(parameter.get("schema"))
    return result


def schema_retry_after_headers(result, generator, request, public):
    """drf-spectacular post-processing hook: a 429 or 503 says in Retry-After how many seconds
    to wait before trying again."""
    header = {"Retry-After": {"schema": {"type": "integer", "minimum": 0},
                              "description": "Seconds to wait before trying again."}}
    for item in result.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            for code in ("429", "503"):
                if code in responses:
                    responses[code].setdefault("headers", {}).update(header)
    return result


class StrictPageNumberPagination(PageNumberPagination):
    """DRF's pages, except that a blank `?page=` is an invalid page (404) like `?page=x`, not
    the first page: the schema documents an integer."""

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param) == "":
            raise NotFound(_("Invalid page."))
        return super().get_page_number(request, paginator)


class CoordinatorApi(generics.GenericAPIView):
    permission_classes = [IsAuthenticated, IsCoordinator]
    # JSON only: people explore the API through /api/docs/.
    renderer_classes = [JSONRenderer]
    pagination_class = StrictPageNumberPagination

    @cached_property
    def coordinator(self) -> Coordinator:
        return selectors.coordinator_for_user(self.request.user)

    def is_schema_generation(self) -> bool:
        return getattr(self, "swagger_fake_view", False)


@extend_schema(exclude=True)
class ApiNotFound(APIView):
    """Any other path under /api/ (a non-numeric id, an unknown version): a JSON 404, after the
    same authentication as every operation, instead of Django's HTML page."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound()


# --- the root ------------------------------------------------------------------------------------

ROOT_LINKS = {
    "rounds": ("api:round_list", "Intake rounds your university takes part in."),
    "nominations": ("api:nomination_list", "Your university's nominations."),
    "schema": ("api-schema", "The OpenAPI schema of this API."),
    "docs": ("api-docs", "The interactive documentation of this API."),
}


@extend_schema_view(get=extend_schema(
    operation_id="api_root", tags=["api"], summary="Where the API's endpoints and docs are",
    description="Links to the lists of rounds and nominations, the OpenAPI schema and the "
                "interactive documentation. Open without a token; a token sent must be valid.",
    responses={
        200: inline_serializer("ApiRoot", {
            key: serializers.URLField(help_text=text) for key, (_name, text) in ROOT_LINKS.items()
        }),
        401: OpenApiResponse(ErrorSerializer, description="An invalid token."),
        429: ERRORS[429], 503: ERRORS[503],
    },
))
class ApiRootApi(APIView):
    """/api/v1/: where to go next, for a person or a client exploring the API. Open to anyone,
    like the schema and the docs it links to; a token sent is still checked."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def get(self, request):
        return Response({key: request.build_absolute_uri(reverse(name))
                         for key, (name, _text) in ROOT_LINKS.items()})


# --- rounds and tracks ------------------------------------------------------------------------

@extend_schema_view(get=extend_schema(
    operation_id="rounds_list", tags=["rounds"],
    summary="Intake rounds your university takes part in",
    parameters=[RoundFilterSerializer],
    responses={200: RoundSerializer(many=True), 400: WRITE_ERRORS[400], **ERRORS},
))
class RoundListApi(CoordinatorApi, generics.ListAPIView):
    serializer_class = RoundSerializer

    def get_queryset(self):
        if self.is_schema_generation():
            return IntakeRound.objects.none()
        filters = RoundFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        rounds = selectors.round_list_for_coordinator(self.coordinator)
        phase = filters.validated_data.get("phase")
        if phase:
            rounds = [intake_round for intake_round in rounds if intake_round.phase == phase]
        prefetch_related_objects(rounds, "program__core_technologies")
        return rounds


@extend_schema_view(get=extend_schema(
    operation_id="rounds_retrieve", tags=["rounds"], summary="One intake round",
    responses={200: RoundSerializer, **ERRORS},
))
class RoundDetailApi(CoordinatorApi, generics.RetrieveAPIView):
    serializer_class = RoundSerializer
    queryset = IntakeRound.objects.none()

    def get_object(self) -> IntakeRound:
        intake_round = selectors.round_get_for_coordinator(self.coordinator, self.kwargs["pk"])
        prefetch_related_objects([intake_round], "program__core_technologies")
        return intake_round


@extend_schema_view(get=extend_schema(
    operation_id="rounds_tracks_list", tags=["rounds"],
    summary="Degree tracks offered in a round",
    responses={200: TrackSerializer(many=True), **ERRORS},
))
class RoundTrackListApi(CoordinatorApi, generics.ListAPIView):
    serializer_class = TrackSerializer

    def get_queryset(self):
        if self.is_schema_generation():
            return DegreeTrack.objects.none()
        intake_round = selectors.round_get_for_coordinator(self.coordinator, self.kwargs["pk"])
        return selectors.round_tracks(intake_round)


# --- nominations ------------------------------------------------------------------------------

class NominationApi(CoordinatorApi):
    parser_classes = [BoundedJSONParser]
    queryset = Nomination.objects.none()

    def get_nomination(self) -> Nomination:
        return selectors.nomination_get_for_user(self.request.user, self.kwargs["pk"])

    def detail_response(self, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
        nomination = selectors.nomination_get_for_user(self.request.user, pk)
        prefetch_related_objects([nomination], "courses__technologies")
        selectors.nomination_outcomes([nomination])
        data = NominationDetailSerializer(nomination, context=self.get_serializer_context()).data
        return Response(data, status=status_code)


class NominationListApi(NominationApi):
    serializer_class = NominationListSerializer

    def get_queryset(self):
        if self.is_schema_generation():
            return Nomination.objects.none()
        filters = NominationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        nominations = selectors.nomination_list_for_user(
            self.request.user, intake_round=values.get("round"),
            status=values.get("status") or None,
            search=(values.get("q") or "").strip() or None,
            outcome=values.get("outcome") or None,
        )
        # What the list's rows show and no more: the round's name, the ranked tracks' ids (a
        # page of 50 no longer builds 150 tracks, 50 universities and 50 programs).
        return (nominations.select_related(None).select_related("intake_round")
                .prefetch_related(None).prefetch_related(Prefetch(
                    "preferences", queryset=NominationPreference.objects.only(
                        "nomination_id", "track_id", "rank").order_by("rank"))))

    @extend_schema(
        operation_id="nominations_list", tags=["nominations"],
        summary="Your university's nominations",
        parameters=[NominationFilterSerializer],
        responses={200: NominationListSerializer(many=True), 400: WRITE_ERRORS[400], **ERRORS},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        selectors.nomination_outcomes(page)
        serializer = NominationListSerializer(page, many=True,
                                              context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        operation_id="nominations_create", tags=["nominations"],
        summary="Start a draft nomination",
        request=NominationCreateSerializer,
        responses={201: NominationDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        rounds = {r.pk: r for r in selectors.round_list_for_coordinator(self.coordinator)}
        serializer = NominationCreateSerializer(data=request.data, rounds=rounds)
        serializer.is_valid(raise_exception=True)
        nomination = services.nomination_save(
            actor=request.user, intake_round=serializer.validated_data["round"],
            university=self.coordinator.university, data=serializer.service_data(),
            preferences=serializer.validated_data.get("preferences"),
            courses=serializer.validated_data.get("courses"),
        )
        return self.detail_response(nomination.pk, status.HTTP_201_CREATED)


class NominationDetailApi(NominationApi):
    serializer_class = NominationDetailSerializer

    @extend_schema(operation_id="nominations_retrieve", tags=["nominations"],
                   summary="One nomination",
                   responses={200: NominationDetailSerializer, **ERRORS})
    def get(self, request, pk: int):
        return self.detail_response(pk)

    @extend_schema(
        operation_id="nominations_partial_update", tags=["nominations"],
        summary="Change a nomination until the deadline",
        description="Only the fields sent are changed. `preferences` and `courses`, when sent, "
                    "replace what is stored. Changing the preferences of a submitted "
                    "nomination asks the candidate to confirm consent again.",
        request=NominationWriteSerializer,
        responses={200: NominationDetailSerializer, **WRITE_ERRORS},
    )
    def patch(self, request, pk: int):
        nomination = self.get_nomination()
        serializer = NominationWriteSerializer(
            instance=nomination, data=request.data, partial=True,
            intake_round=nomination.intake_round,
        )
        serializer.is_valid(raise_exception=True)
        services.nomination_save(
            actor=request.user, nomination=nomination, data=serializer.service_data(),
            preferences=serializer.validated_data.get("preferences"),
            courses=serializer.validated_data.get("courses"),
        )
        return self.detail_response(nomination.pk)


class NominationSubmitApi(NominationApi):
    serializer_class = NominationDetailSerializer

    @extend_schema(
        operation_id="nominations_submit", tags=["nominations"],
        summary="Submit a complete nomination",
        description="Checks the deadline, the quota, completeness and duplicates; then emails "
                    "the candidate a link to confirm consent and preferences.",
        request=None, responses={200: NominationDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        nomination = self.get_nomination()
        services.nomination_submit(actor=request.user, nomination=nomination)
        return self.detail_response(nomination.pk)


class NominationWithdrawApi(NominationApi):
    serializer_class = WithdrawSerializer

    @extend_schema(
        operation_id="nominations_withdraw", tags=["nominations"],
        summary="Withdraw a nomination",
        request=WithdrawSerializer, responses={200: NominationDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        nomination = self.get_nomination()
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.nomination_withdraw(actor=request.user, nomination=nomination,
                                     reason=serializer.validated_data["reason"])
        return self.detail_response(nomination.pk)


# --- documents --------------------------------------------------------------------------------

class DocumentApi(NominationApi):
    serializer_class = DocumentSerializer
    queryset = NominationDocument.objects.none()
    pagination_class = None

    def get_document(self) -> NominationDocument:
        document = selectors.document_get_for_user(self.request.user, self.kwargs["document_id"])
        if document.nomination_id != self.kwargs["pk"]:
            raise Http404
        return document


class DocumentListApi(DocumentApi):
    parser_classes = [MultiPartParser]

    @extend_schema(operation_id="documents_list", tags=["documents"],
                   summary="Documents of a nomination",
                   responses={200: DocumentSerializer(many=True), **ERRORS})
    def get(self, request, pk: int):
        nomination = self.get_nomination()
        return Response(DocumentSerializer(nomination.documents.all(), many=True,
                                           context=self.get_serializer_context()).data)

    @extend_schema(
        operation_id="documents_upload", tags=["documents"],
        summary="Upload a document",
        description="Replaces an earlier document of the same kind. The type is checked by the "
                    "file's content, not its name.",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        nomination = self.get_nomination()
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = services.document_upload(
            actor=request.user, nomination=nomination, kind=serializer.validated_data["kind"],
            file=serializer.validated_data["file"],
        )
        return Response(DocumentSerializer(document, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


class DocumentDetailApi(DocumentApi):
    @extend_schema(operation_id="documents_retrieve", tags=["documents"],
                   summary="One document", responses={200: DocumentSerializer, **ERRORS})
    def get(self, request, pk: int, document_id: int):
        return Response(DocumentSerializer(self.get_document(),
                                           context=self.get_serializer_context()).data)

    @extend_schema(operation_id="documents_destroy", tags=["documents"],
                   summary="Remove a document",
                   responses={204: OpenApiResponse(description="Removed."), **WRITE_ERRORS})
    def delete(self, request, pk: int, document_id: int):
        services.document_remove(actor=request.user, document=self.get_document())
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentDownloadApi(DocumentApi):
    def perform_content_negotiation(self, request, force=False):
        # The file goes out in its own type whatever the Accept header says; errors as JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="documents_download", tags=["documents"],
        summary="Download a document",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            **ERRORS,
        },
    )
    def get(self, request, pk: int, document_id: int):
        document = self.get_document()
        try:
            handle = document.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type=document.content_type, as_attachment=True,
                                filename=document.original_name)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
