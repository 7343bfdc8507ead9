"""The nightly mentor matching at scale: the vectorised scoring (`matching.pair_weights`) gives
every pair exactly the weight of the formula it replaced, and the proposals do not change."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecocycle.matching import assign_optimal, assign_optimal_arrays
from mentors import fit as mentor_fit
from mentors.services.matching import pair_weights

PROPERTY = settings(max_examples=200, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
WEIGHTS = {"expertise": 0.55, "travel": 0.25, "continuity": 0.20}


def old_fit(mentee, mentor):
    """`mentor_fit.fit` as it was before the scoring was vectorised, word for word."""
    shared = mentee.languages & mentor.languages
    if not shared:
        return None
    if mentee.technology_ids:
        tech = len(mentee.technology_ids & mentor.technology_ids) / len(mentee.technology_ids)
    else:
        tech = 0.0
    words = (len(mentee.interest_words & mentor.keyword_words) / len(mentee.interest_words)
             if mentee.interest_words else 0.0)
    expertise = min(1.0, 0.8 * tech + 0.2 * words)
    travel = 1.0 if mentee.country in mentor.travel_countries else 0.0
    continuity = 1.0 if mentee.university_id in mentor.universities else (
        0.5 if mentee.program_id in mentor.programs else 0.0)
    parts = {"expertise": round(expertise, 6), "travel": travel, "continuity": continuity,
             "languages": sorted(shared)}
    weight = sum(WEIGHTS[name] * parts[name] for name in WEIGHTS)
    return round(weight, 6), parts


def old_fits(mentees, mentors, refused):
    """The pairs and weights as `_proposals` built them, one Python call per pair."""
    fits = []
    for mentee in mentees:
        for mentor in mentors:
            if (mentee.nomination_id, mentor.mentor_id) in refused:
                continue
            scored = old_fit(mentee, mentor)
            if scored is not None:
                fits.append((mentee.nomination_id, mentor.mentor_id, scored[0]))
    return fits


def sets(elements, max_size):
    return st.frozensets(elements, max_size=max_size)


LANGUAGES = st.sampled_from(["ko", "en", "id", "vi", "ja"])
WORDS = st.sampled_from(["robot", "weld", "sensor", "energy", "battery", "laser", "mould"])


@st.composite
def instances(draw):
    n_mentees = draw(st.integers(0, 7))
    n_mentors = draw(st.integers(0, 7))
    mentees = [mentor_fit.MenteeFacts(
        nomination_id=100 + 3 * i, country=draw(st.sampled_from(["ID", "VN", "KR"])),
        languages=draw(sets(LANGUAGES, 3).filter(bool)),
        technology_ids=draw(sets(st.integers(1, 9), 5)),
        interest_words=draw(sets(WORDS, 5)),
        university_id=draw(st.integers(1, 4)), program_id=draw(st.integers(1, 2)),
    ) for i in range(n_mentees)]
    mentors = [mentor_fit.MentorFacts(
        mentor_id=7 + 5 * j, languages=draw(sets(LANGUAGES, 3)),
        technology_ids=draw(sets(st.integers(1, 12), 5)),
        keyword_words=draw(sets(WORDS | st.sampled_from(["other", "words"]), 5)),
        travel_countries=draw(sets(st.sampled_from(["ID", "VN", "TH"]), 2)),
        universities=draw(sets(st.integers(1, 5), 2)), programs=draw(sets(st.integers(1, 3), 2)),
    ) for j in range(n_mentors)]
    pairs = [(a.nomination_id, b.mentor_id) for a in mentees for b in mentors]
    refused = set(draw(st.lists(st.sampled_from(pairs), max_size=4))) if pairs else set()
    capacities = {b.mentor_id: draw(st.integers(0, 3)) for b in mentors}
    return mentees, mentors, refused, capacities


@PROPERTY
@given(instances())
def test_vectorised_weights_equal_the_old_formula_pair_by_pair(instance):
    mentees, mentors, refused, _capacities = instance
    members, hosts, weights = pair_weights(mentees, mentors, refused)
    new = list(zip(members.tolist(), hosts.tolist(), weights.tolist(), strict=True))
    # Same pairs, same order (mentee, then mentor, as given) and bit-for-bit the same weights.
    assert new == old_fits(mentees, mentors, refused)


@PROPERTY
@given(instances())
def test_proposals_are_the_same_as_before(instance):
    mentees, mentors, refused, capacities = instance
    before = assign_optimal(old_fits(mentees, mentors, refused), capacities)
    after = assign_optimal_arrays(*pair_weights(mentees, mentors, refused), capacities)
    assert repr(after) == repr(before)  # the same pairs, in the same order


@PROPERTY
@given(instances())
def test_fit_keeps_its_components(instance):
    mentees, mentors, _refused, _capacities = instance
    for mentee in mentees:
        for mentor in mentors:
            assert mentor_fit.fit(mentee, mentor) == old_fit(mentee, mentor)


def test_long_interests_and_many_technologies_keep_exact_weights():
    words = frozenset(f"w{k}" for k in range(300))
    mentees = [mentor_fit.MenteeFacts(
        nomination_id=i, country="ID", languages=frozenset({"en"}),
        technology_ids=frozenset(range(i * 7 % 50)), interest_words=frozenset(
            list(words)[: i * 37 % 300]), university_id=i % 3, program_id=1) for i in range(40)]
    mentors = [mentor_fit.MentorFacts(
        mentor_id=j, languages=frozenset({"en", "ko"}), technology_ids=frozenset(
            range(j, 60, 3)), keyword_words=frozenset(list(words)[j::5]),
        travel_countries=frozenset({"ID"} if j % 2 else set()),
        universities=frozenset({j % 4}), programs=frozenset({1} if j % 3 else set()))
        for j in range(30)]
    members, hosts, weights = pair_weights(mentees, mentors)
    assert list(zip(members.tolist(), hosts.tolist(), weights.tolist(), strict=True)) == (
        old_fits(mentees, mentors, set()))


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_blocks_of_any_size_give_the_same_pairs(monkeypatch, chunk):
    mentees = [mentor_fit.MenteeFacts(
        nomination_id=i, country="VN", languages=frozenset({"vi", "en"} if i % 2 else {"id"}),
        technology_ids=frozenset({i % 5}), interest_words=frozenset({"robot"}),
        university_id=1, program_id=1) for i in range(9)]
    mentors = [mentor_fit.MentorFacts(
        mentor_id=j, languages=frozenset({"en"} if j % 2 else {"id", "ko"}),
        technology_ids=frozenset({j % 5}), keyword_words=frozenset({"robot"}),
        travel_countries=frozenset({"VN"}), universities=frozenset(), programs=frozenset({1}))
        for j in range(6)]
    monkeypatch.setattr("mentors.services.matching._CHUNK", chunk)
    members, hosts, weights = pair_weights(mentees, mentors, {(1, 1), (8, 0)})
    assert list(zip(members.tolist(), hosts.tolist(), weights.tolist(), strict=True)) == (
        old_fits(mentees, mentors, {(1, 1), (8, 0)}))
