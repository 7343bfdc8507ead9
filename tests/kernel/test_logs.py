"""Every response carries its request's id: the proxy's when it looks like one, else a new one."""

import logging

import pytest

from ecocycle.logs import RequestIdFilter

pytestmark = pytest.mark.django_db


def test_the_proxys_request_id_is_kept(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123.x_y")
    assert response["X-Request-ID"] == "abc-123.x_y"


@pytest.mark.parametrize("given", ["", "has space", "x" * 65, "<script>", "a\u00e9"])
def test_a_missing_or_odd_request_id_is_replaced(client, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] != given
    assert len(response["X-Request-ID"]) == 32


def test_outside_a_request_log_records_have_no_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    assert RequestIdFilter().filter(record) is True
    assert record.request_id is None
