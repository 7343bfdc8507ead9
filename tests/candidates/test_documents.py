"""Uploaded PDFs are parsed whole: files that do not parse, and PDFs with active content
(JavaScript, embedded files, launch actions, XFA) or HTML inside, are refused."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from candidates import services
from candidates.scenarios import DEMO_PDF
from tests.candidates.factories import PDF_BYTES, PNG_BYTES, complete_nomination

pytestmark = pytest.mark.django_db


def _pdf(build=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if build:
        build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _upload(content: bytes, name="cv.pdf"):
    nomination = complete_nomination(documents=False)
    return services.document_upload(actor=None, nomination=nomination, kind="cv",
                                    file=SimpleUploadedFile(name, content))


def _refusal(content: bytes, name="cv.pdf") -> str:
    with pytest.raises(ValidationError) as excinfo:
        _upload(content, name)
    return excinfo.value.message_dict["file"][0]


def _open_action_launch(writer):
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/Launch"),
        NameObject("/F"): TextStringObject("calc.exe"),
    })


def _page_aa_js(writer):
    writer.pages[0][NameObject("/AA")] = DictionaryObject({
        NameObject("/O"): DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                            NameObject("/JS"): TextStringObject("1")})})


def _xfa(writer):
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): DictionaryObject(),
        NameObject("/XFA"): TextStringObject("<xdp:xdp/>")})


def test_plain_pdfs_are_accepted():
    for content in (_pdf(), PDF_BYTES, DEMO_PDF):
        assert _upload(content).content_type == "application/pdf"


@pytest.mark.parametrize(("build", "what"), [
    (lambda writer: writer.add_open_action(JavaScript("app.alert(1);")), "JavaScript"),
    (lambda writer: writer.add_attachment("payload.exe", b"MZ..."), "embedded file"),
    (_open_action_launch, "launches"),
    (_page_aa_js, "JavaScript"),
    (_xfa, "XFA"),
])
def test_pdfs_with_active_content_are_refused(build, what):
    message = _refusal(_pdf(build))
    assert "“cv.pdf”" in message and what in message


def test_javascript_in_a_link_annotation_is_refused():
    def build(writer):
        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert(1)")})
        annotation = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): DictionaryObject(), NameObject("/A"): action})
        writer.add_annotation(page_number=0, annotation=annotation)

    assert "JavaScript" in _refusal(_pdf(build))


def test_html_after_a_pdf_header_is_refused():
    polyglot = _pdf() + b"\n<html><body><script>alert(document.cookie)</script></body></html>\n"
    assert "HTML" in _refusal(polyglot)
    past_4kb = PDF_BYTES[:9] + b"%" + b"x" * 5000 + b"\n" + PDF_BYTES[9:] + b"<script>x</script>"
    assert "HTML" in _refusal(past_4kb)


def test_html_after_an_image_header_is_refused():
    assert "HTML" in _refusal(PNG_BYTES + b"<html><script>alert(1)</script>", name="cv.png")


def test_a_file_that_only_starts_like_a_pdf_is_refused():
    message = _refusal(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    assert "could not be read as a PDF" in message



def test_a_password_protected_pdf_is_refused_and_an_owner_locked_one_checked():
    locked = _pdf(lambda writer: writer.encrypt(user_password="secret", algorithm="RC4-128"))
    assert "password-protected" in _refusal(locked)
    # No password to open it (only to edit it), as many transcripts come: read and checked.
    owner_only = _pdf(lambda writer: writer.encrypt(user_password="", owner_password="o",
                                                    algorithm="RC4-128"))
    assert _upload(owner_only).content_type == "application/pdf"

    def scripted(writer):
        writer.add_open_action(JavaScript("app.alert(1);"))
        writer.encrypt(user_password="", owner_password="o", algorithm="RC4-128")

    assert "JavaScript" in _refusal(_pdf(scripted))
