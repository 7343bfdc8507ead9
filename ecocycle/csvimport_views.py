"""The upload page and the template download that every CSV import shares.

An importer's view checks who may import, builds its import (an ecocycle.csvimport.CsvImport)
and hands both to `import_page`, naming only what differs: the template (which extends
``_import_page.html``), the tables shown beside the columns, and where success leads.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from .csvimport import CsvImport, FileRefused, ImportResult, RowError


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


def import_page(
    request: HttpRequest, *, importer: CsvImport, template_name: str, template_url: str,
    cancel_url: str, success_url: str, success_message: Callable[[int], str],
    context: Mapping[str, Any], can_upload: bool = True,
    queue: Callable[[UploadedFile], str] | None = None,
) -> HttpResponse:
    """GET shows the page. POST runs the import: on success a message (`success_message` of
    the number created) and a redirect; otherwise the page again, with every error and the name
    of the file that was chosen (a browser forgets the file itself).

    With `queue`, POST does not import: `queue(file)` keeps the file for a background job and
    returns the address of the page that follows it, where the browser is sent. What it
    refuses at once (FileRefused, ValidationError) is shown here as a problem of the file."""
    form = (CsvUploadForm(request.POST, request.FILES) if request.method == "POST"
            else CsvUploadForm())
    result, chosen = None, ""
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["file"].name
        if queue is not None:
            try:
                return redirect(queue(form.cleaned_data["file"]))
            except FileRefused as error:
                result = ImportResult(errors=[RowError(None, "", str(error))])
            except ValidationError as error:
                result = ImportResult(errors=[RowError(None, "", message)
                                              for message in error.messages])
        else:
            result = importer.run(form.cleaned_data["file"])
            if result.ok:
                messages.success(request, success_message(len(result.created)))
                return redirect(success_url)
    return render(request, template_name, {
        **context,
        "form": form,
        "result": result,
        "chosen": chosen,
        "columns": importer.columns,
        "can_upload": can_upload,
        "template_url": template_url,
        "cancel_url": cancel_url,
        "max_bytes": importer.max_bytes(),
        "max_rows": importer.max_rows(),
    })


def template_download(content: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
