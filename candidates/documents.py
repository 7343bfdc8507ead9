"""What an uploaded document is, by its whole content, and whether it may be kept.

The first bytes say which type a file claims to be (PDF, JPEG, PNG). A PDF is then parsed whole
with pypdf and every object it holds is walked: a file that does not parse is refused, and so is
one with active content, which a reviewer's viewer could run: JavaScript (document, page,
annotation or form-field actions), embedded files, launch / import / submit / media actions, and
XFA forms. HTML anywhere in a file (a polyglot that a browser would render) is refused for every
type. JPEG and PNG keep the signature check: no image library is a dependency.
"""

import io
import re
from typing import IO

import puremagic
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from ecocycle.exceptions import DomainError

PDF = "application/pdf"
ALLOWED_CONTENT_TYPES = {PDF, "image/jpeg", "image/png"}

# Tags a browser would act on, chosen long enough (or followed by whitespace or ">") that the
# compressed bytes of a 10 MB scan spell one by chance less than once in ten thousand files.
HTML_TAG = re.compile(
    rb"<(?:script|iframe|object|embed|!doctype\s+html|html[\s>]|body[\s>]|svg\s[^<>]*on[a-z]+=)",
    re.IGNORECASE,
)

# Dictionary keys, and action types (/S), that mean active content; the value says which.
JAVASCRIPT, EMBEDDED, ACTION, XFA = "javascript", "embedded", "action", "xfa"
ACTIVE_KEYS = {
    "/JavaScript": JAVASCRIPT, "/JS": JAVASCRIPT,
    "/EmbeddedFiles": EMBEDDED, "/EF": EMBEDDED, "/EmbeddedFile": EMBEDDED,
    "/XFA": XFA, "/RichMediaContent": ACTION,
}
ACTIVE_ACTIONS = {
    "/JavaScript": JAVASCRIPT, "/GoToE": EMBEDDED, "/Launch": ACTION, "/ImportData": ACTION,
    "/SubmitForm": ACTION, "/Rendition": ACTION, "/RichMediaExecute": ACTION,
}
ACTIVE_NAME_VALUES = {"/EmbeddedFile": EMBEDDED, "/FileAttachment": EMBEDDED, "/RichMedia": ACTION}
# More objects than any scanned certificate holds: past this the file is refused, not walked on.
MAX_OBJECTS = 200_000


def _messages() -> dict[str, str]:
    return {
        JAVASCRIPT: _("“%(name)s” contains JavaScript, which documents may not carry. Print it to "
                      "a new PDF (or scan it) and upload that."),
        EMBEDDED: _("“%(name)s” has an embedded file attached. Upload each document as a PDF of "
                    "its own, without attachments."),
        ACTION: _("“%(name)s” launches programs, submits forms or plays media when opened. Print "
                  "it to a new PDF (or scan it) and upload that."),
        XFA: _("“%(name)s” is an XFA form, which may run scripts. Print it to a new PDF (or scan "
               "it) and upload that."),
    }


def _refuse(message: str, name: str) -> DomainError:
    return DomainError({"file": message % {"name": name}})


def document_content_type(*, file: IO[bytes], name: str) -> str:
    """The document's content type, detected from its content; DomainError when it is not a
    PDF, JPEG or PNG, holds HTML, or is a PDF that does not parse or carries active content.

    Reads the whole file (the caller has checked its size). Linear in the file's size and, for a
    PDF, in its number of objects (at most MAX_OBJECTS).
    """
    file.seek(0)
    data = file.read()
    file.seek(0)
    try:
        detected = puremagic.from_string(data[:4096], mime=True) if data else ""
    except puremagic.PureError:
        detected = ""
    if detected not in ALLOWED_CONTENT_TYPES:
        raise _refuse(_(
            "“%(name)s” is not a PDF, JPEG or PNG file, whatever its name says. Upload the "
            "document as PDF, JPEG or PNG."
        ), name)
    if HTML_TAG.search(data):
        raise _refuse(_(
            "“%(name)s” contains HTML as well as a document, which is not accepted. Save or scan "
            "the document again and upload the new file."
        ), name)
    if detected == PDF:
        _check_pdf(data, name)
    return detected


def _check_pdf(data: bytes, name: str) -> None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _refuse(_("“%(name)s” is password-protected. Upload it without a password."),
                          name)
        found = _active_content(reader)
    except DomainError:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file; all mean the same.
        raise _refuse(_(
            "“%(name)s” could not be read as a PDF. It may be damaged: open it, save it as a new "
            "PDF, and upload that."
        ), name) from exc
    if found:
        raise _refuse(_messages()[found], name)


def _seeds(reader: PdfReader) -> list:
    """The trailer, every page, and every object the cross-reference tables list (reachable or
    not: an orphan object may still be found by a lenient viewer)."""
    seeds: list = [reader.trailer, *reader.pages]
    for by_number in reader.xref.values():
        seeds.extend(IndirectObject(number, 0, reader) for number in by_number)
    seeds.extend(IndirectObject(number, 0, reader) for number in reader.xref_objStm)
    return seeds


def _active_content(reader: PdfReader) -> str | None:
    """The first kind of active content found walking every object, or None."""
    stack = _seeds(reader)
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(item, DictionaryObject):
            found = _active_in_dictionary(item)
            if found:
                return found
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return None


def _active_in_dictionary(dictionary: DictionaryObject) -> str | None:
    for key, value in dictionary.items():
        if key in ACTIVE_KEYS:
            return ACTIVE_KEYS[key]
        if isinstance(value, NameObject):
            if key == "/S" and value in ACTIVE_ACTIONS:
                return ACTIVE_ACTIONS[value]
            if key in ("/Type", "/Subtype") and value in ACTIVE_NAME_VALUES:
                return ACTIVE_NAME_VALUES[value]
    return None
