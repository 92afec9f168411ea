"""Where local models run: a GPU when torch sees one, else the CPU; ``EVALKIT_DEVICE`` overrides, and a
device torch cannot see stops the run with one line. (This machine has no GPU: the CUDA choice is tested on
torch's own answer, monkeypatched; the CPU path is every other local test.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from evalkit.cli import main
from evalkit.errors import ServiceError
from evalkit.providers.local.device import local_device


def test_auto_takes_a_gpu_when_torch_sees_one_else_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert local_device() == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert local_device() == "cuda"
    monkeypatch.setenv("EVALKIT_DEVICE", "cpu")
    assert local_device() == "cpu"  # overridden


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("gpu", "EVALKIT_DEVICE='gpu' is not a device: use auto, cpu, cuda, cuda:N or mps"),
        ("cuda", "EVALKIT_DEVICE=cuda but torch sees no CUDA device: unset it to use the CPU"),
    ],
)
def test_a_device_that_cannot_be_used_is_refused(monkeypatch: pytest.MonkeyPatch, value: str, says: str) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("EVALKIT_DEVICE", value)
    with pytest.raises(ServiceError, match="^" + says.replace("(", r"\(").replace(")", r"\)") + "$"):
        local_device()


def test_a_run_asked_for_a_gpu_it_lacks_stops_with_one_line(
    local_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("EVALKIT_DEVICE", "cuda")
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncases:\n  - {input: Hi, expected: hello}\nscorers: [exact]\n")
    code = main(["run", str(suite), "--model", "m=local:smollm2-135m-instruct", "--quiet", "--out", str(tmp_path / "o")])
    assert code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "evalkit: error: EVALKIT_DEVICE=cuda but torch sees no CUDA device: unset it to use the CPU"
    )
