"""Search: synonyms and abbreviations both ways, typos, filters, only published, bad input."""

from __future__ import annotations

import pytest

from cti.domain.errors import InvalidInput
from knowledge.base import KnowledgeBase
from knowledge.search import Doc, SearchIndex


def top(kb: KnowledgeBase, q: str, n: int = 3, **filters: str) -> list[str]:
    return [h.id for h in kb.search(q, limit=n, **filters)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("OT", "kb-asc-ot-assessment"),
        ("DN referral", "kb-chs-district-nursing-referral"),
        ("CPN", "kb-amh-cpn-contact"),
        ("DoLS", "kb-gen-dols"),
        ("carer's assessment", "kb-asc-carers-assessment"),
        ("reablement", "kb-icrs-reablement"),
        ("where's my nurse", "kb-chs-wheres-my-nurse"),
    ],
)
def test_abbreviations_and_synonyms_call_handlers_use(kb: KnowledgeBase, query: str, expected: str) -> None:
    assert expected in top(kb, query)


def test_synonyms_work_in_both_directions() -> None:
    docs = [
        Doc(
            "kb-a",
            "article",
            "Occupational therapy at home",
            "",
            "Seeing an occupational therapist.",
            ("fcp",),
            (),
        ),
        Doc("kb-b", "article", "OT waiting list", "", "The OT team.", ("fcp",), ()),
        Doc("kb-c", "article", "Bins", "", "Bin collections.", ("fcp",), ()),
    ]
    index = SearchIndex(docs, [("ot", "occupational therapy", "occupational therapist")])
    try:
        assert {h.id for h in index.search("OT")} == {"kb-a", "kb-b"}
        assert {h.id for h in index.search("occupational therapy")} == {"kb-a", "kb-b"}
    finally:
        index.close()


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("carers assesment", "kb-asc-carers-assessment"),
        ("reablment", "kb-icrs-reablement"),
        ("cathater", "kb-chs-catheter-problems"),
        ("safguarding", "kb-gen-safeguarding-adult"),
    ],
)
def test_typos_are_tolerated(kb: KnowledgeBase, typo: str, expected: str) -> None:
    assert expected in top(kb, typo)


def test_a_short_word_is_not_corrected_into_another_word(kb: KnowledgeBase) -> None:
    assert "life" not in kb.index.match_expression("wife")


def test_filters_by_service_and_audience(kb: KnowledgeBase) -> None:
    hits = kb.search("referral", service="bed_bureau", limit=20)
    assert hits
    for hit in hits:
        if hit.kind == "article":
            services = kb.articles[hit.id].meta.services
        else:
            services = kb.directory[hit.id].services
        assert "bed_bureau" in services or "all" in services
    public = kb.search("carer", audience="public", kind="article", limit=20)
    assert public
    assert all("public" in kb.articles[h.id].meta.audience for h in public)
    assert "kb-icrs-carer-breakdown" not in [h.id for h in public]  # call handlers only


def test_only_published_articles_are_found(kb: KnowledgeBase) -> None:
    assert kb.articles["kb-amh-crisis-text-line"].meta.state == "draft"
    assert kb.articles["kb-gen-fax-referrals"].meta.state == "retired"
    found = top(kb, "crisis text line fax referrals", n=50)
    assert "kb-amh-crisis-text-line" not in found
    assert "kb-gen-fax-referrals" not in found


def test_results_carry_kind_title_snippet_and_score(kb: KnowledgeBase) -> None:
    hits = kb.search("telecare pendant alarm", limit=5)
    kinds = {h.kind for h in hits}
    assert kinds == {"article", "directory"}
    first = hits[0].to_json()
    assert set(first) == {"id", "kind", "title", "snippet", "score"}
    assert first["snippet"]
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "x" * 301}, "q"),
        ({"q": "ot", "service": "nowhere"}, "service"),
        ({"q": "ot", "audience": "aliens"}, "audience"),
        ({"q": "ot", "limit": 0}, "limit"),
        ({"q": "ot", "limit": 51}, "limit"),
    ],
)
def test_bad_input_names_the_field(kb: KnowledgeBase, kwargs: dict[str, object], field: str) -> None:
    q = kwargs.pop("q")
    with pytest.raises(InvalidInput) as caught:
        kb.search(q, **kwargs)  # type: ignore[arg-type]
    assert caught.value.details["field"] == field


def test_fts_syntax_in_a_query_is_just_text(kb: KnowledgeBase) -> None:
    assert kb.search('"OT" AND NOT (NEAR dols*') is not None
    assert kb.search("***") == []
