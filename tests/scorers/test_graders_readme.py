"""The README's "OpenAI graders" example is real: its suite and its data row, run with its command against
the fake OpenAI, report the metrics the README names, with the figures its graders define."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from fakeopenai import FakeOpenAI, FakeRequest
from rapidfuzz import fuzz, utils
from rouge_score.rouge_scorer import RougeScorer

from evalkit.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README.split("## OpenAI graders\n", 1)[1].split("\n## ", 1)[0]
BLOCKS = dict(re.findall(r"^```(\w*)\n(.*?)^```$", SECTION, flags=re.DOTALL | re.MULTILINE))
ANSWERS = {
    "What is the capital of France?": "Paris is the capital of France.",
    "What is the capital of Japan?": "I believe it is Kyoto, the old imperial city of Japan, famous for its temples.",
}


def test_the_readme_graders_example_runs_and_reports_its_metrics(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "capitals.yaml").write_text(BLOCKS["yaml"])
    france = json.loads(BLOCKS["json"])
    japan = {
        "id": "jp",
        "messages": [{"role": "user", "content": "What is the capital of Japan?"}],
        "item": {"capital": "Tokyo", "reference": "The capital of Japan is Tokyo."},
    }
    rows = [france, japan]
    (tmp_path / "capitals.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))

    def answer(request: FakeRequest) -> str:
        return ANSWERS[request.last_user]

    fake_openai.script("gpt-4o-mini", answer)
    (command,) = [line for line in BLOCKS[""].splitlines() if line.startswith("evalkit run")]

    code = main([*shlex.split(command)[1:], "--quiet", "--out", "out"])

    metrics = json.loads(Path("out/results.json").read_text())["metrics"]["candidate"]
    assert code == 1  # Japan's answer misses Tokyo: names_the_capital is 0.5, below the gate's 0.9
    references = [france["messages"][1]["content"], japan["item"]["reference"]]
    answers = list(ANSWERS.values())
    named = [1.0, 0.0]
    rouge = [RougeScorer(["rougeL"]).score(r, a)["rougeL"].fmeasure for r, a in zip(references, answers, strict=True)]
    close = [fuzz.WRatio(a, r, processor=utils.default_process) / 100 for r, a in zip(references, answers, strict=True)]
    short = [1.0, 0.0]  # the second answer has more than 12 words
    expected = {
        "names_the_capital": sum(named) / 2,
        "close_to_the_reference": sum(rouge) / 2,
        "close_to_the_reference.pass_rate": sum(value >= 0.5 for value in rouge) / 2,
        "combined": sum(0.7 * n + 0.3 * c for n, c in zip(named, close, strict=True)) / 2,
        "short_answer": sum(short) / 2,
        "short_answer.pass_rate": sum(short) / 2,
    }
    assert {name: metrics[name]["value"] for name in expected} == pytest.approx(expected)
    assert all(f"`{name}`" in SECTION for name in expected)
