"""A `.qdpx` coded in a QDA tool as gold codings for the run it was exported from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.errors import GoldCodingError
from pipeline.export import export_run
from pipeline.gold import read_gold_qdpx
from tests.test_qdpx_support import CODEBOOK, full_run, sources


def test_qdpx_gold_reads_human_codings_and_leaves_suggestions_out(tmp_path: Path) -> None:
    out = tmp_path / "coded.qdpx"
    export_run(full_run(tmp_path / "run"), out)
    gold = read_gold_qdpx(out, sources(), CODEBOOK)
    assert gold.coders == ["A", "Ann"]
    assert any("precode suggestions" in w for w in gold.warnings)
    assert [c.code_id for c in gold.by_coder("Ann")] == ["coexisting"]
    assert read_gold_qdpx(out, sources(), CODEBOOK, coders=["A"]).coders == ["A"]
    with pytest.raises(GoldCodingError, match="no codings by coder"):
        read_gold_qdpx(out, sources(), CODEBOOK, coders=["Zed"])


def test_qdpx_gold_refuses_a_project_whose_text_differs(tmp_path: Path) -> None:
    out = tmp_path / "coded.qdpx"
    export_run(full_run(tmp_path / "run"), out)
    a, b = sources()
    changed = [a, dataclasses.replace(b, text="Another text entirely, longer than before.")]
    with pytest.raises(GoldCodingError, match="differs from the run's"):
        read_gold_qdpx(out, changed, CODEBOOK)
    with pytest.raises(GoldCodingError, match="a source the run lacks"):
        read_gold_qdpx(out, [a], CODEBOOK)
