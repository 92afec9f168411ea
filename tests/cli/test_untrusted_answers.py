"""Any text a server can send as an answer goes through the cache, the scorers, the analysis and every
output without an exception, and reads back as it was recorded.

Hypothesis writes the answers: any code points (lone surrogates, NUL, C0/C1 controls, bidi overrides
included), and long unbroken runs. An answer is what ``parse_reply`` makes of a response body: the text
itself, with lone surrogates written as their escapes (UTF-8 cannot hold them).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from xml.etree import ElementTree

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit.pipeline.finish import finish
from evalkit.providers.openai_replies import parse_reply
from evalkit.records import Case, CaseSet, Outcome, Target, Usage
from evalkit.records.cases import DataSource, SuiteInfo
from evalkit.records.results import RunRecord
from evalkit.records.results_json import read_results
from evalkit.runner.cache import Cache, CachedReply
from evalkit.scorers import build_scorers
from evalkit.scorers.run import score_run
from evalkit.suite import load_suite
from evalkit.text import encodable

SUITE = """\
name: odd
cases:
  - {id: a, input: "Route this ticket", expected: billing}
  - {id: b, input: "And this one", expected: technical}
scorers:
  - exact: {casefold: true, punctuation: true}
  - includes
  - regex: {pattern: "bill"}
  - json
  - classify: {labels: [billing, technical]}
gate:
  - {target: m, metric: exact, min: 0.0}
"""

any_char = st.characters(codec=None, categories=None)  # every code point, surrogates and controls too
answers = st.one_of(
    st.text(any_char, max_size=60),
    st.text(st.sampled_from(["\ud800", "\udfff", "\x00", "\x1b", "\u202e", "\u2066", "\x85", "<", "&", "b"]), max_size=40),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "\u202e", "\ud83d"]), st.integers(10_000, 100_000)),
)


def _body(answer: str) -> dict[str, object]:
    message = {"role": "assistant", "content": answer}
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 5}}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=answers, second=answers)
def test_any_answer_is_cached_scored_written_and_read_back_as_recorded(
    first: str, second: str, tmp_path_factory: object
) -> None:
    folder: Path = tmp_path_factory.mktemp("odd")  # type: ignore[attr-defined]
    first, second = (json.loads(json.dumps(text)) for text in (first, second))  # as a JSON body can carry it
    recorded = [parse_reply(_body(answer), "chat").output for answer in (first, second)]
    assert recorded == [encodable(first), encodable(second)]

    with Cache.open(folder / "cache") as cache:  # the raw text too: the cache keeps whatever it is given
        for key, text in enumerate([first, second, *recorded]):
            assert cache.put(str(key), CachedReply(text, Usage(3, 5), "stop", 0.1))
        assert cache.unstored == 0
    with Cache.open(folder / "cache") as cache:
        assert [hit.output for hit in cache.get_many([str(k) for k in range(4)]).values()] == [first, second, *recorded]

    (folder / "odd.yaml").write_text(SUITE)
    suite = load_suite(folder / "odd.yaml")
    cases = [Case(id="a", reference="billing", messages=({"role": "user", "content": "Route this ticket"},)),
             Case(id="b", reference="technical", messages=({"role": "user", "content": "And this one"},))]
    target = Target("m", "gpt-4o-mini", "chat")
    outcomes = {"m": [Outcome(text, usage=Usage(3, 5), latency_s=0.1, finish_reason="stop") for text in recorded]}
    scores = asyncio.run(score_run(cases, outcomes, build_scorers(suite.scorers), targets=[target]))
    case_set = CaseSet(cases, "c" * 64, "inline")
    record = RunRecord(
        suite=SuiteInfo("odd", "", str(suite.path), suite.sha256, DataSource("inline", "c" * 64, 2)),
        case_set=case_set, targets=[target], generation={}, completions={}, scorers=[], outcomes=outcomes,
        scores=scores, started_at="2026-12-03T00:00:00+00:00", finished_at="2026-12-03T00:00:01+00:00",
        warnings=[], jobs=[], training=[], checks={}, judge_usage={},
    )  # fmt: skip

    result = finish(suite, record, folder / "out")
    assert result.results.gate.verdict == "go"
    saved = read_results(folder / "out" / "results.json")
    assert [case.results["m"].output for case in saved.cases] == recorded
    for name in ("report.html", "summary.md", "junit.xml"):
        assert (folder / "out" / name).read_bytes().decode("utf-8")  # written, and UTF-8
    ElementTree.parse(folder / "out" / "junit.xml")  # well-formed XML 1.0 whatever the answers held
    json.loads((folder / "out" / "results.json").read_text(encoding="utf-8"))
