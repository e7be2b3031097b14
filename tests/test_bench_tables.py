"""bench/README.md's tables are made from the benchmarks' results files, pretrained/README.md's from the networks'
JSON files: a table that disagrees with its file fails here, so no figure is typed by hand."""
import json
import math

import pytest

from bench import tables


def test_every_benchmark_table_is_its_results_file():
    text = tables.README.read_text(encoding="utf-8")
    assert tables.named(text), "bench/README.md shows no results"
    assert tables.render(text) == text, "a table differs from its results file: run python -m bench.tables"


def test_every_results_file_has_a_table():
    shown = tables.named(tables.README.read_text(encoding="utf-8"))
    files = {p.stem for p in tables.RESULTS_DIR.glob("*.json")}
    assert files - shown == set(), "results without a table in bench/README.md"


def test_the_pretrained_tables_are_the_networks_json():
    text = tables.PRETRAINED_README.read_text(encoding="utf-8")
    assert tables.NETS.search(text)
    assert tables.render_pretrained(text) == text, "a table differs from pretrained/*.json: run python -m bench.tables"


@pytest.mark.parametrize("path", sorted(tables.RESULTS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_results_files_say_how_they_were_measured(path):
    result = json.loads(path.read_text())
    assert result["name"] == path.stem and result["command"].startswith("python -m bench.")
    assert result["measured"] and result["device"] and result["torch"] and result["rows"]
    for row in result["rows"]:
        assert math.isfinite(row["value"]) and row["unit"] is not None
        if row["budget"] is not None:  # the mark a table shows is the comparison, made again here
            assert row["ok"] == (row["value"] >= row["budget"] if row["at_least"] else row["value"] <= row["budget"])


def test_a_changed_figure_is_caught():
    result = {"name": "x", "command": "python -m bench.x", "measured": "2026-12-05 10:00 UTC", "commit": "abc1234",
              "device": "cpu (1 thread)", "torch": "2.13.0", "note": "",
              "rows": [{"what": "a run", "value": 0.1973, "unit": "s", "budget": 0.5, "at_least": False, "ok": True},
                       {"what": "a rerun", "value": 12.34, "unit": "ms", "budget": 150, "at_least": False, "ok": True},
                       {"what": "ours / theirs", "value": 1.106, "unit": "×", "budget": 1, "at_least": True,
                        "ok": True},
                       {"what": "memory", "value": 1234.5, "unit": "MB", "budget": None, "at_least": False,
                        "ok": None}]}
    assert tables.table(result) == (
        "`python -m bench.x`: measured 2026-12-05 10:00 UTC on cpu (1 thread), torch 2.13.0, commit `abc1234`.\n\n"
        "| what | measured | budget |\n|---|---|---|\n"
        "| a run | 0.197 s | ≤ 0.5 s ✓ |\n| a rerun | 12.3 ms | ≤ 150 ms ✓ |\n| ours / theirs | 1.11× | ≥ 1× ✓ |\n"
        "| memory | 1,234 MB |  |\n")
    result["rows"][0]["value"] = 0.6
    result["rows"][0]["ok"] = False
    assert "| a run | 0.6 s | ≤ 0.5 s **over** |" in tables.table(result)


def test_columns_make_one_row_per_measure():
    rows = [{"what": "open, p95", "value": v, "unit": "s", "budget": 2.0, "at_least": False, "ok": v <= 2,
             "column": f"N = {n}"} for n, v in ((1, 0.02), (30, 0.75))]
    out = tables.table({"command": "python -m bench.load", "measured": "m", "device": "cpu", "torch": "t",
                        "rows": rows})
    assert "| what | N = 1 | N = 30 | budget |" in out and "| open, p95 | 0.02 s | 0.75 s | ≤ 2 s ✓ |" in out
