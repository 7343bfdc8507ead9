"""Staff's what-ifs: a cohort proposal with other seats and weights, next to the current run.

A request only queues one (`whatif_request`); a task computes it (`whatif_compute`) and stores
the per-track figures and the candidates whose outcome changes. The same seats and weights
against the same state of the round reuse the stored what-if. A dry run: no matching run, no
placement and no audit entry is written.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from ecocycle.models import User
from programs.models import IntakeRound

from ..models import Cohort, CohortOverride, Nomination, WhatIfRun
from ..selectors import whatif_changes
from .matching import cohort_propose

# What-ifs kept per round; older ones are deleted when a new one is asked for.
WHATIF_KEEP = 5
# A what-if queued or running for longer than this is taken for lost (its worker died): the same
# request then queues a new one.
WHATIF_STALE_AFTER = timedelta(minutes=30)


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def whatif_base(*, intake_round: IntakeRound):
    """The cohort's current run and a digest of the round's state a what-if starts from: the
    run's input digest, the staff overrides in force and the nominations' last change (three
    small queries, whatever the round's size)."""
    cohort = Cohort.objects.filter(intake_round=intake_round).select_related("match_run").first()
    run = cohort.match_run if cohort else None
    overrides = sorted(
        CohortOverride.objects.filter(cohort__intake_round=intake_round, cleared_at__isnull=True)
        .values_list("nomination_id", "track_id"))
    nominations = Nomination.objects.filter(intake_round=intake_round).aggregate(
        count=Count("id"), changed=Max("updated_at"))
    return run, _digest({"run": [run.pk, run.input_digest] if run else None,
                         "overrides": overrides, "nominations": nominations})


@transaction.atomic
def whatif_request(*, actor: User, intake_round: IntakeRound, seats: Mapping[int, int],
                   weights: Mapping[str, float]) -> WhatIfRun:
    """Staff's what-if: the stored one for the same seats, weights and state of the round, or a
    new one queued after commit. Keeps the round's WHATIF_KEEP newest."""
    # In here: candidates.tasks imports the services.
    from ..tasks import compute_whatif  # noqa: PLC0415

    seats = {str(pk): int(n) for pk, n in sorted(seats.items())}
    weights = {name: float(w) for name, w in sorted(weights.items())}
    params_digest = _digest({"seats": seats, "weights": weights})
    run, base_digest = whatif_base(intake_round=intake_round)
    alive = Q(status=WhatIfRun.Status.DONE) | Q(
        status__in=[WhatIfRun.Status.QUEUED, WhatIfRun.Status.RUNNING],
        created_at__gte=timezone.now() - WHATIF_STALE_AFTER)
    stored = WhatIfRun.objects.filter(
        alive, intake_round=intake_round, params_digest=params_digest, base_digest=base_digest,
    ).defer("tracks", "changes").first()
    if stored is not None:
        return stored
    whatif = WhatIfRun(intake_round=intake_round, requested_by=actor, seats=seats,
                       weights=weights, params_digest=params_digest, base_run=run,
                       base_digest=base_digest)
    whatif.full_clean()
    whatif.save()
    older = list(WhatIfRun.objects.filter(intake_round=intake_round)
                 .order_by("-created_at", "-id").values_list("id", flat=True)[WHATIF_KEEP:])
    if older:
        WhatIfRun.objects.filter(pk__in=older).delete()
    compute_whatif.delay_on_commit(whatif.pk)
    return whatif


def _whatif_finish(whatif: WhatIfRun, **fields) -> None:
    # An update, not a save: the what-if may have been pruned meanwhile; then nothing is stored.
    WhatIfRun.objects.filter(pk=whatif.pk).update(finished_at=timezone.now(), **fields)


def whatif_compute(*, whatif: WhatIfRun) -> bool:
    """Compute a queued what-if and store its result. Safe to run twice: only a queued what-if is
    claimed. Holds no transaction while it computes (it only reads); a refusal from the engine
    is stored as the failure's message, anything else as a bare failure and raised again."""
    claimed = WhatIfRun.objects.filter(pk=whatif.pk, status=WhatIfRun.Status.QUEUED).update(
        status=WhatIfRun.Status.RUNNING, started_at=timezone.now())
    if not claimed:
        return False
    try:
        proposal = cohort_propose(intake_round=whatif.intake_round,
                                  seats={int(pk): n for pk, n in whatif.seats.items()},
                                  weights=whatif.weights)
        result = whatif_changes(whatif.intake_round, proposal)
    except ValidationError as refusal:
        _whatif_finish(whatif, status=WhatIfRun.Status.FAILED, error=" ".join(refusal.messages))
        return False
    except Exception:
        # The worker's log has the traceback; the page says only that it failed.
        _whatif_finish(whatif, status=WhatIfRun.Status.FAILED)
        raise
    _whatif_finish(whatif, status=WhatIfRun.Status.DONE, **result)
    return True
