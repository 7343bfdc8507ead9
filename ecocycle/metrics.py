"""Prometheus metrics for operators: the /metrics view, Celery task timings, the outbox gauges.

Request latencies come from django-prometheus's middleware (its database wrappers are not used).
What lives in the database (the outbox, match runs, scheduled jobs) is counted when Prometheus
scrapes, by collectors registered with `scrape_collector_register` — so every process reports the
same figures, and nothing is counted between scrapes.

The view answers only a bearer token equal to ECOCYCLE_METRICS_TOKEN (compared in constant time);
without the setting, or with any other token, it is a 404 like any unknown page.
"""

import hmac
import logging
import os
import time
from collections.abc import Iterable

from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_prometheus.middleware import PrometheusAfterMiddleware as _PrometheusAfterMiddleware
from django_prometheus.utils import Time
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .models import OutboundEmail

logger = logging.getLogger(__name__)

TASK_DURATION = Histogram(
    "ecocycle_task_duration_seconds", "Celery task run time, by task name and outcome.",
    ["task", "outcome"], buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, float("inf")),
)

# Collectors that read the database at scrape time, kept apart from prometheus_client's global
# registry: in multi-process mode that registry is not what the view reads, and nothing but the
# view should run their queries.
_SCRAPE_REGISTRY = CollectorRegistry(auto_describe=False)
_SCRAPE_COLLECTORS: set[type] = set()


def scrape_collector_register(collector: Collector) -> None:
    """Add a collector run at each scrape; once per class, however often apps get ready."""
    if type(collector) in _SCRAPE_COLLECTORS:
        return
    _SCRAPE_COLLECTORS.add(type(collector))
    _SCRAPE_REGISTRY.register(collector)


class OutboxCollector(Collector):
    """The outbox: emails by status, and the age of the oldest one still waiting."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        by_status = GaugeMetricFamily("ecocycle_outbox_emails", "Emails in the outbox, by status.",
                                      labels=["status"])
        counts = dict(OutboundEmail.objects.values_list("status").annotate(n=Count("id"))
                      .values_list("status", "n"))
        for status in OutboundEmail.Status.values:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        failing = GaugeMetricFamily(
            "ecocycle_outbox_retrying_emails", "Pending emails whose last attempt failed.")
        failing.add_metric([], OutboundEmail.objects.filter(
            status=OutboundEmail.Status.PENDING).exclude(last_error="").count())
        yield failing
        oldest = (OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING)
                  .order_by("created_at").values_list("created_at", flat=True).first())
        age = GaugeMetricFamily("ecocycle_outbox_oldest_pending_age_seconds",
                                "Age of the oldest pending email (0 when none is pending).")
        age.add_metric([], 0 if oldest is None else max(0.0, time.time() - oldest.timestamp()))
        yield age


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _authorised(request) -> bool:
    expected = getattr(settings, "ECOCYCLE_METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus's text format, for the operators' scraper only (any other caller: 404)."""
    if not _authorised(request):
        raise Http404
    body = generate_latest(_registry()) + generate_latest(_SCRAPE_REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


class PrometheusAfterMiddleware(_PrometheusAfterMiddleware):
    """django-prometheus's, except that a malformed Content-Length (which Django ignores, as
    ecocycle.limits does) is not a server error: the request is timed, its size not counted."""

    def process_request(self, request):
        try:
            int(request.headers.get("content-length") or 0)
        except ValueError:
            request.prometheus_after_middleware_event = Time()
            return None
        return super().process_request(request)


# --- Celery: every task's run time and outcome, measured in the worker -----------------------
_started: dict[str, float] = {}


def _task_started(task_id=None, **kwargs) -> None:
    if task_id:
        _started[task_id] = time.monotonic()


def _task_finished(task_id=None, task=None, state=None, **kwargs) -> None:
    started = _started.pop(task_id, None) if task_id else None
    if started is None or task is None:
        return
    outcome = {"SUCCESS": "success", "RETRY": "retry"}.get(state or "", "failure")
    TASK_DURATION.labels(task=task.name, outcome=outcome).observe(time.monotonic() - started)


def task_signals_connect() -> None:
    task_prerun.connect(_task_started, weak=False, dispatch_uid="ecocycle_metrics_prerun")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="ecocycle_metrics_postrun")
