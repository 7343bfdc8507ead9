"""The career fit rule, without a database: where the wish allows, and how the weight is made."""

import itertools

import pytest

from students.career_fit import (
    RETURN,
    STAY,
    UNDECIDED,
    WEIGHTS,
    CompanyFacts,
    StudentFacts,
    fit,
    place,
    reasons,
)


def student(**kwargs) -> StudentFacts:
    values = {"enrolment_id": 1, "home_country": "ID", "wish": UNDECIDED, "preferred_region": "",
              "region_words": frozenset(), "technology_ids": frozenset({1, 2}),
              "research_words": frozenset({"catalyst", "biodiesel"}), "program_id": 10}
    return StudentFacts(**{**values, **kwargs})


def company(**kwargs) -> CompanyFacts:
    values = {"company_id": 1, "country": "KR", "region": "Gyeonggi",
              "region_words": frozenset({"gyeonggi", "ansan"}),
              "technology_ids": frozenset({1, 2, 3}),
              "skill_words": frozenset({"catalyst", "reactor"}), "program_ids": frozenset({10})}
    return CompanyFacts(**{**values, **kwargs})


@pytest.mark.parametrize(("wish", "country", "expected"), [
    (STAY, "KR", "korea"), (STAY, "ID", None), (STAY, "VN", None),
    (RETURN, "KR", None), (RETURN, "ID", "home"), (RETURN, "VN", None),
    (UNDECIDED, "KR", "korea"), (UNDECIDED, "ID", "home"), (UNDECIDED, "VN", None),
])
def test_the_wish_decides_where(wish, country, expected):
    assert place(student(wish=wish), company(country=country)) == expected
    assert (fit(student(wish=wish), company(country=country)) is None) == (expected is None)


def test_an_unknown_nationality_only_allows_korea():
    assert place(student(home_country="", wish=UNDECIDED), company(country="ID")) is None
    assert place(student(home_country="", wish=RETURN), company(country="")) is None


def test_nothing_in_common_is_not_proposed():
    unrelated = company(technology_ids=frozenset({7}), skill_words=frozenset({"welding"}),
                        program_ids=frozenset())
    assert fit(student(), unrelated) is None
    # One shared thing is enough: a technology, a word, or the program.
    assert fit(student(), company(technology_ids=frozenset({1}), skill_words=frozenset(),
                                  program_ids=frozenset())) is not None
    assert fit(student(), company(technology_ids=frozenset(), skill_words=frozenset({"catalyst"}),
                                  program_ids=frozenset())) is not None
    assert fit(student(), company(technology_ids=frozenset(), skill_words=frozenset(),
                                  program_ids=frozenset({10}))) is not None


def test_components_and_weight():
    weight, parts = fit(student(wish=STAY, region_words=frozenset({"gyeonggi"}),
                                preferred_region="Gyeonggi-do"), company())
    assert parts == {"technologies": round(2 / 3, 6), "skills": 0.5, "wish": 1.0,
                     "region": 1.0, "program": 1.0}
    assert weight == round(sum(WEIGHTS[k] * parts[k] for k in WEIGHTS), 6)
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_a_matching_region_beats_none_which_beats_another():
    matching = fit(student(region_words=frozenset({"ansan"})), company())[0]
    none = fit(student(), company())[0]
    other = fit(student(region_words=frozenset({"busan"})), company())[0]
    assert matching > none > other


def test_an_explicit_wish_weighs_more_than_undecided():
    assert fit(student(wish=STAY), company())[0] > fit(student(wish=UNDECIDED), company())[0]


def test_weights_stay_in_unit_interval():
    for wish, techs, words in itertools.product((STAY, UNDECIDED), ([], [1], [1, 2, 3]),
                                                ([], ["catalyst"], ["catalyst", "reactor"])):
        result = fit(student(wish=wish, technology_ids=frozenset(techs),
                             research_words=frozenset(words)), company())
        assert result is not None and 0.0 <= result[0] <= 1.0


def test_reasons_are_codes_with_params_most_important_first():
    s = student(wish=STAY, preferred_region="Busan", region_words=frozenset({"busan"}))
    out = reasons(s, company(), {1: "Catalysts", 2: "Biodiesel QC", 3: "Plant design"})
    assert [r["code"] for r in out] == ["technologies", "skills", "wish_stay", "region_other",
                                        "program"]
    assert out[0]["params"] == {"shared": 2, "needed": 3, "names": ["Biodiesel QC", "Catalysts"]}
    assert out[1]["params"] == {"count": 1, "words": ["catalyst"]}
    assert out[2]["params"] == {"country": "KR", "region": "Gyeonggi"}
    assert out[3]["params"]["preferred"] == "Busan"


def test_reasons_for_undecided_and_missing_technologies():
    out = reasons(student(technology_ids=frozenset()), company(country="ID"), {})
    codes = [r["code"] for r in out]
    assert codes[0] == "technologies_none" and "wish_undecided_home" in codes
