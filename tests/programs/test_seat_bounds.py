"""Seats are bounded everywhere staff can type them (issue 14)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from hub.round_views import WhatIfForm
from programs.models import MAX_TRACK_SEATS, DegreeTrack, RoundTrack
from tests.programs.factories import DegreeTrackFactory, RoundTrackFactory

pytestmark = pytest.mark.django_db


def test_the_bound_is_a_few_hundred_not_billions():
    assert MAX_TRACK_SEATS == 1000


@pytest.mark.parametrize("model", [RoundTrack, DegreeTrack])
def test_model_refuses_seats_above_the_maximum(model):
    instance = (RoundTrackFactory if model is RoundTrack else DegreeTrackFactory)()
    instance.seats = MAX_TRACK_SEATS
    instance.full_clean()
    instance.seats = MAX_TRACK_SEATS + 1
    with pytest.raises(ValidationError) as raised:
        instance.full_clean()
    assert "seats" in raised.value.message_dict


def test_whatif_form_has_the_same_bound():
    track = DegreeTrackFactory()
    weights = {"gpa": 1}
    data = {f"weight_{name}": "1" for name in ("gpa", "language", "coursework", "interests",
                                               "university_rank")}
    form = WhatIfForm({**data, f"seats_{track.pk}": str(MAX_TRACK_SEATS)},
                      tracks=[track], seats={}, weights=weights)
    assert form.is_valid(), form.errors
    form = WhatIfForm({**data, f"seats_{track.pk}": str(MAX_TRACK_SEATS + 1)},
                      tracks=[track], seats={}, weights=weights)
    assert not form.is_valid()
    assert f"seats_{track.pk}" in form.errors
