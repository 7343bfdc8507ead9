"""The round's CSV exports are streamed: the cohort table's rows are read in chunks as they are
written, in the same queries whatever the size of the round, never held whole in memory."""

import csv
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.selectors import cohort_table
from tests.candidates.factories import admitted_round

pytestmark = pytest.mark.django_db


def _download(client, intake_round, what="cohort"):
    """(response, rows, queries to answer and read it all)."""
    url = reverse("staff_rounds:export", args=[intake_round.pk, what, "csv"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        content = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return response, rows, len(queries)


def test_cohort_csv_is_streamed_in_the_same_queries_for_a_larger_round(client, staff_user):
    small, _ = admitted_round(2)
    large, _ = admitted_round(9, seats=10)
    client.force_login(staff_user)
    _small_response, small_rows, small_queries = _download(client, small)
    large_response, large_rows, large_queries = _download(client, large)
    assert isinstance(large_response, StreamingHttpResponse)
    assert large_response["Content-Type"] == "text/csv; charset=utf-8"
    assert (len(small_rows), len(large_rows)) == (3, 10)
    assert large_queries == small_queries


def test_cohort_table_rows_are_read_lazily():
    intake_round, nominations = admitted_round(3)
    table = cohort_table(intake_round)
    assert not isinstance(table.rows, list)
    rows = list(table.rows)
    assert sorted(row[0] for row in rows) == sorted(n.pk for n in nominations)


@pytest.mark.parametrize("what", ["tracks", "universities"])
def test_other_csv_exports_are_streamed_too(client, staff_user, what):
    intake_round, _ = admitted_round(2)
    client.force_login(staff_user)
    response, rows, _queries = _download(client, intake_round, what)
    assert isinstance(response, StreamingHttpResponse)
    assert len(rows) >= 2
