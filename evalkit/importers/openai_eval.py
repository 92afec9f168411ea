"""``evalkit import openai-eval``: an eval from OpenAI's closed Evals platform as an evalkit suite that
runs the same criteria, so a number before and after the move means the same thing.

    EVAL.json        the eval (GET /v1/evals/{id}): its item schema and testing criteria
    --data           its items (JSON Lines); optional when --output-items carry them
    --run            a run of it (GET /v1/evals/{id}/runs/{run}): how items became conversations, its
                     model and sampling parameters
    --output-items   that run's output items (GET .../output_items): what each item was sent, the answer,
                     OpenAI's grader results

Everything is read and checked before anything is written; nothing existing is overwritten without
``force``. It writes:

    SUITE.yaml                  ``evalkit.importers.suite_file``: one ``- grader: {...}`` per criterion,
                                the run's sampling as ``generation:``, and with output items a target
                                replaying them
    data/NAME.jsonl             one chat row per item (``evalkit.importers.rows``)
    runs/NAME-RUN/results.json  with output items: the run's answers and OpenAI's scores as a saved run
                                (``evalkit.importers.saved_run``)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evalkit.errors import InputError
from evalkit.importers.conversation import input_builder
from evalkit.importers.criteria import Criterion, grader_criteria, reference_field
from evalkit.importers.eval_object import EvalSpec, read_eval
from evalkit.importers.items import Item, check_items, items_of_outputs, match_outputs, read_items
from evalkit.importers.output_items import OutputItem, OutputItems, read_output_items
from evalkit.importers.rows import Row, case_ids, item_row
from evalkit.importers.run_object import RunSpec, read_run
from evalkit.importers.saved_run import saved_run
from evalkit.importers.settings import request_settings
from evalkit.importers.suite_file import Replay, suite_document, suite_name
from evalkit.importers.summary import Written, next_command, openai_summary, run_notes
from evalkit.importers.writing import check_free, jsonl_bytes, relative, slug, suite_yaml
from evalkit.records import Target
from evalkit.records.results import RunResults
from evalkit.text import display_path

__all__ = ["EvalImport", "Imported", "import_openai_eval"]


@dataclass(frozen=True, slots=True)
class EvalImport:
    """What to import, and where to write it."""

    eval_file: Path
    """The eval object (JSON)."""
    items_file: Path | None = None
    """Its items (JSON Lines); None to take them from ``output_items_file``."""
    run_file: Path | None = None
    """A run of the eval (JSON)."""
    output_items_file: Path | None = None
    """That run's output items (a JSON list or page, or JSON Lines)."""
    out: Path | None = None
    """The suite file to write (default ``suites/<eval name>.yaml``)."""
    data_out: Path | None = None
    """The data file to write (default ``data/<suite file name>.jsonl`` beside the suite)."""
    force: bool = False
    """Overwrite files that exist."""


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import wrote and what the user should know."""

    suite: Path
    """The suite file written."""
    written: list[Written]
    """Every file written, with what it holds."""
    notes: list[str] = field(default_factory=list)
    """What was not carried over as it was, one line each."""
    openai_results: str | None = None
    """OpenAI's own pass rates per criterion on the imported run, in a paragraph; None without one."""
    next_command: str = ""
    """The commands to run next."""


@dataclass(frozen=True, slots=True)
class _Source:
    """Everything read, checked and matched."""

    spec: EvalSpec
    run: RunSpec | None
    outputs: OutputItems | None
    items: list[Item]
    matched: dict[int, OutputItem]

    @property
    def run_id(self) -> str | None:
        return (self.run.id if self.run else None) or (self.outputs.run_id if self.outputs else None)

    @property
    def model(self) -> str | None:
        return (self.run.model if self.run else None) or (self.outputs.model if self.outputs else None)


def import_openai_eval(request: EvalImport) -> Imported:
    """Import an eval (see the module docstring); ``InputError`` naming the file, line and field of the first
    problem, before anything is written."""
    source = _read(request)
    criteria, notes = grader_criteria(source.spec.criteria)
    settings = request_settings(
        source.run, [o.sample for o in source.outputs.items] if source.outputs else []
    )
    suite_path = request.out or Path("suites") / f"{suite_name(source.spec)}.yaml"
    data_path = request.data_out or suite_path.parent / "data" / f"{suite_path.stem}.jsonl"
    _check_suffixes(suite_path, data_path)
    builder, compared = input_builder(source.run), reference_field(criteria)
    rows = [
        item_row(item, source.matched.get(item.id), case_id=case_id, builder=builder, reference_field=compared,
                 tools=settings.tools, line=line, source=display_path(data_path))
        for line, (item, case_id) in enumerate(zip(source.items, case_ids(source.items), strict=True), 1)
    ]  # fmt: skip
    replay = _replay(source, suite_path) if source.outputs is not None else None
    results_path = suite_path.parent / replay.path if replay is not None else None
    check_free(
        [(suite_path, "--out"), (data_path, "--data-out")]
        + ([(results_path, "--out")] if results_path else []),
        force=request.force,
    )
    data = relative(data_path, suite_path.parent)
    document = suite_document(source.spec, criteria, data=data, generation=settings.generation, replay=replay)
    suite_text, data_bytes = suite_yaml(document), jsonl_bytes([row.data for row in rows])
    written = [
        Written(suite_path, f"the suite {document['name']!r}"),
        Written(data_path, f"{len(rows)} cases"),
    ]
    summary, saved = None, None
    if replay is not None and results_path is not None and source.outputs is not None:
        saved = _saved(source, rows, criteria, settings.generation, replay, suite=(suite_path, suite_text),
                       data=(data_path, data_bytes))  # fmt: skip
        written.append(
            Written(results_path, f"OpenAI's answers and scores, replayed as target {replay.target}")
        )
        summary = openai_summary(saved, target=replay.target, run_id=replay.run_id, model=replay.model)
        notes += run_notes(source.outputs, source.items, source.matched)
    from evalkit.records.results_json import write_bytes_atomic, write_results, write_text_atomic

    write_bytes_atomic(data_path, data_bytes)
    if saved is not None and results_path is not None:
        write_results(results_path, saved)
    write_text_atomic(suite_path, suite_text)
    notes += settings.notes + _sample_note(source.items)
    return Imported(suite_path, written, notes, summary, next_command(suite_path))


def _read(request: EvalImport) -> _Source:
    spec = read_eval(request.eval_file)
    run = read_run(request.run_file) if request.run_file is not None else None
    if run is not None and run.eval_id not in (None, spec.id):
        message = (
            f"{run.eval_id!r} is a run of another eval than {spec.id!r} ({display_path(request.eval_file)})"
        )
        raise InputError(message, file=display_path(request.run_file or ""), field="eval_id")
    outputs = read_output_items(request.output_items_file) if request.output_items_file is not None else None
    if outputs is not None and run is not None and outputs.run_id not in (None, run.id):
        message = f"these are the output items of run {outputs.run_id!r}, not of {run.id!r} (--run)"
        raise InputError(message, file=display_path(request.output_items_file or ""))
    if request.items_file is not None:
        items = read_items(request.items_file)
    elif outputs is not None:
        items = items_of_outputs(outputs.items)
    else:
        message = (
            "give the eval's items: --data ITEMS.jsonl, or --output-items OUT.jsonl (they carry their items)"
        )
        raise InputError(message, field="--data")
    check_items(items, spec.item_schema, schema_where=spec.schema_where)
    matched = match_outputs(items, outputs.items) if outputs is not None else {}
    return _Source(spec, run, outputs, items, matched)


def _check_suffixes(suite_path: Path, data_path: Path) -> None:
    if suite_path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(f"{display_path(suite_path)}: a suite file ends in .yaml or .yml", field="--out")
    if data_path.suffix.lower() not in (".jsonl", ".ndjson"):
        raise InputError(
            f"{display_path(data_path)}: a data file of chat rows ends in .jsonl", field="--data-out"
        )


def _replay(source: _Source, suite_path: Path) -> Replay:
    run_id = source.run_id or "openai"
    folder = f"runs/{suite_path.stem}-{slug(run_id, fallback='openai')}"
    target = slug(source.model or "openai-run", fallback="openai-run")
    return Replay(target=target, path=f"{folder}/results.json", run_id=run_id, model=source.model)


def _saved(
    source: _Source,
    rows: list[Row],
    criteria: list[Criterion],
    generation: dict[str, Any],
    replay: Replay,
    *,
    suite: tuple[Path, str],
    data: tuple[Path, bytes],
) -> RunResults:
    """The saved run of the output items, recording the suite and data files about to be written."""
    from evalkit.records.cases import DataSource, SuiteInfo
    from evalkit.suite.model import Generation

    (suite_path, suite_text), (data_path, data_bytes) = suite, data
    info = SuiteInfo(
        name=suite_name(source.spec),
        description=f"OpenAI eval {source.spec.id}, run {replay.run_id}",
        file=display_path(suite_path),
        sha256=_sha256(suite_text.encode("utf-8")),
        data=DataSource(source=display_path(data_path), sha256=_sha256(data_bytes), cases=len(rows)),
    )
    endpoint = source.run.endpoint if source.run is not None else "chat"
    target = Target(name=replay.target, model=replay.model or "unknown", endpoint=endpoint)
    made = sorted(o.created_at for o in (source.outputs.items if source.outputs else []) if o.created_at)
    start = source.run.created_at if source.run is not None and source.run.created_at else None
    start = start or (made[0] if made else None)
    warning = (
        f"made on OpenAI's Evals platform (eval {source.spec.id}, run {replay.run_id}) and imported by "
        f"`evalkit import openai-eval` on {_iso(None)[:10]}: the answers are its output items', the scores "
        "OpenAI's own grader results"
    )
    return saved_run(
        rows,
        source.matched,
        suite=info,
        target=target,
        criteria=criteria,
        generation=Generation.model_validate(generation).model_dump(exclude_none=True),
        started_at=_iso(start),
        finished_at=_iso(made[-1] if made else start),
        warnings=[warning],
    )


def _iso(timestamp: int | None) -> str:
    moment = datetime.now(UTC) if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="seconds")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sample_note(items: list[Item]) -> list[str]:
    carrying = sum(1 for item in items if item.has_sample)
    if not carrying:
        return []
    return [f"{carrying} item line(s) carry a 'sample' (an answer made before any run): not imported"]
