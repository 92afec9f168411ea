"""Tables through Hugging Face ``datasets``: CSV and Parquet files, and datasets available locally.

Every cell of a CSV file is read as text (``"001"`` stays ``"001"``, ``NA`` stays ``NA``). The suite's
``columns:`` mapping must name columns that exist; a dataset is loaded offline, from a directory (saved
with ``save_to_disk`` or holding data files) or from the local Hugging Face cache. ``datasets`` is
imported here only, when a table is read.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.data.sources import RawRow, Rows
from evalkit.errors import DataError
from evalkit.suite.model import Columns, DataSpec, Suite
from evalkit.text import display_path

if TYPE_CHECKING:
    from datasets import Dataset


def table_rows(path: Path, *, kind: str, columns: Columns, suite: Suite) -> Rows:
    """The rows of a CSV or Parquet file, keyed by the mapped column names."""
    file = display_path(path)
    raw = path.read_bytes()
    dataset = _read_csv(path, file=file) if kind == "csv" else _read_parquet(path, file=file)
    first = 2 if kind == "csv" else 1
    label = "line" if kind == "csv" else "row"
    rows = _mapped_rows(dataset, columns=columns, suite=suite, where=file, first=first, label=label)
    sha256 = hashlib.sha256(raw).hexdigest()
    return Rows(rows=rows, file=file, source=file, sha256=sha256, case_source=file)


def _read_csv(path: Path, *, file: str) -> Dataset:
    header = _csv_header(path, file=file)
    with _datasets_quiet_offline() as datasets:
        features = datasets.Features({name: datasets.Value("string") for name in header})
        try:
            return datasets.load_dataset(
                "csv",
                data_files=str(path),
                split="train",
                features=features,
                na_filter=False,
                encoding="utf-8-sig",
            )
        except _read_errors(datasets) as exc:
            raise DataError(f"cannot read the CSV file: {_reason(exc)}", file=file) from None


def _csv_header(path: Path, *, file: str) -> list[str]:
    """The header of a CSV file that has at least one row below it; DataError otherwise."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            first_row = next((row for row in reader if any(cell.strip() for cell in row)), None)
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text", file=file) from None
    except csv.Error as exc:
        raise DataError(f"cannot read the CSV header: {exc}", file=file, line=1) from None
    if header is None:
        raise DataError("no cases (the file is empty)", file=file)
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(f"column {repeated[0]!r} appears twice in the header", file=file, line=1)
    if first_row is None:
        raise DataError("no cases (the file has a header but no rows)", file=file)
    return header


def _read_parquet(path: Path, *, file: str) -> Dataset:
    with _datasets_quiet_offline() as datasets:
        try:
            return datasets.load_dataset("parquet", data_files=str(path), split="train")
        except _read_errors(datasets) as exc:
            raise DataError(f"cannot read the Parquet file: {_reason(exc)}", file=file) from None


def hub_rows(spec: DataSpec, *, suite: Suite) -> Rows:
    """The rows of a dataset's split: a local directory (relative to the suite) or a cached hub dataset."""
    assert spec.hf is not None and spec.columns is not None
    config = f"/{spec.config}" if spec.config else ""
    source = f"hf:{spec.hf}{config}:{spec.split}"
    dataset = _load_hub(spec, suite=suite)
    rows = _mapped_rows(dataset, columns=spec.columns, suite=suite, where=source, first=1, label="row")
    fingerprint = getattr(dataset, "_fingerprint", None) or ""
    identity = {"hf": spec.hf, "config": spec.config, "split": spec.split, "fingerprint": fingerprint}
    sha256 = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return Rows(rows=rows, file=source, source=source, sha256=sha256, empty=f"split {spec.split!r} is empty")


def _load_hub(spec: DataSpec, *, suite: Suite) -> Dataset:
    assert spec.hf is not None
    local = (suite.path.parent / Path(spec.hf).expanduser()).absolute()
    with _datasets_quiet_offline() as datasets:
        try:
            if (local / "dataset_dict.json").is_file() or (local / "state.json").is_file():
                return _from_disk(local, split=spec.split)
            name = str(local) if local.is_dir() else spec.hf
            return datasets.load_dataset(name, spec.config, split=spec.split)
        except _read_errors(datasets) as exc:
            line = suite.line_of("data", "hf")
            message = f"cannot load dataset {spec.hf!r}: {_reason(exc)}"
            raise DataError(message, file=display_path(suite.path), line=line, field="data.hf") from None


def _from_disk(directory: Path, *, split: str) -> Dataset:
    """A dataset saved with ``save_to_disk``: one split of a ``DatasetDict``, or a whole ``Dataset``."""
    import datasets

    loaded = datasets.load_from_disk(str(directory))
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise ValueError(f"split {split!r} not found (splits: {', '.join(loaded)})")
        return loaded[split]
    return loaded


def _mapped_rows(
    dataset: Dataset, *, columns: Columns, suite: Suite, where: str, first: int, label: str
) -> list[RawRow]:
    """Rows holding every column (the mapped ones are the case; the others are item fields graders read); a
    mapping naming a missing column is an error in the suite."""
    mapping = {key: name for key, name in columns.model_dump().items() if name is not None}
    for key, name in mapping.items():
        if name not in dataset.column_names:
            existing = ", ".join(dataset.column_names)
            raise DataError(
                f"column {name!r} is not in {where} (columns: {existing})",
                file=display_path(suite.path),
                line=suite.line_of("data", "columns", key),
                field=f"data.columns.{key}",
            )
    names = list(dataset.column_names)  # the unmapped columns too: graders read them as item fields
    table = dataset.to_dict()
    return [
        RawRow(
            data={name: table[name][i] for name in names},
            number=i + first,
            line=i + first,
            label=f"{label} {i + first}",
        )
        for i in range(dataset.num_rows)
    ]


def _read_errors(datasets: Any) -> tuple[type[Exception], ...]:
    """What ``datasets`` (and pandas, pyarrow beneath it) raise for data it cannot read or find."""
    return (OSError, ValueError, KeyError, datasets.exceptions.DatasetsError)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextmanager
def _datasets_quiet_offline() -> Iterator[Any]:
    """``datasets`` with no progress bars, no logs and no network (restored afterwards): a file it cannot
    parse is reported once, as evalkit's own one-line error, not also as datasets' log line."""
    import datasets
    import huggingface_hub.constants as hub_constants
    from datasets.utils import logging as datasets_logging

    bars = datasets.is_progress_bar_enabled()
    verbosity = datasets_logging.get_verbosity()
    offline = (datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE)
    datasets.disable_progress_bars()
    datasets_logging.set_verbosity(datasets_logging.CRITICAL)
    datasets.config.HF_HUB_OFFLINE = hub_constants.HF_HUB_OFFLINE = True
    try:
        yield datasets
    finally:
        datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE = offline
        datasets_logging.set_verbosity(verbosity)
        if bars:
            datasets.enable_progress_bars()
