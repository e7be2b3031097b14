"""Write bench/README.md's tables from the benchmarks' results files (bench/results/*.json), and
pretrained/README.md's quality tables from the shipped networks' JSON files.

    python -m bench.tables           # rewrite every table between its markers
    python -m bench.tables --check   # exit 1 if a table differs from its results file

In bench/README.md a table stands between `<!-- results: NAME -->` and `<!-- end results -->` and is made from
bench/results/NAME.json, which the benchmark itself wrote (bench.common.save); the text around the markers is
prose and quotes no measured figure. tests/test_bench_tables.py fails when a table disagrees with its file.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_DIR, README = HERE / "results", HERE / "README.md"
PRETRAINED_DIR = HERE.parent / "pretrained"
PRETRAINED_README = PRETRAINED_DIR / "README.md"
BLOCK = re.compile(r"(<!-- results: ([\w.-]+) -->\n)(.*?)(<!-- end results -->)", re.S)
NETS = re.compile(r"(<!-- pretrained: (\w+) -->\n)(.*?)(<!-- end pretrained -->)", re.S)


def number(v: float) -> str:
    """Three significant figures, whole numbers from 100 up, thousands separated."""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def with_unit(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    return f"{number(v)} {unit}".rstrip() if unit != "×" else f"{number(v)}×"


def budget(row: dict) -> str:
    if row.get("budget") is None:
        return ""
    mark = "" if row.get("ok") is None else (" ✓" if row["ok"] else " **over**")
    return f"{'≥' if row.get('at_least') else '≤'} {with_unit(row['budget'], row['unit'])}{mark}"


def table(result: dict) -> str:
    """One results file as a Markdown table under a line saying how and when it was measured."""
    rows = result["rows"]
    head = (f"`{result['command']}`: measured {result['measured']} on {result['device']}, torch {result['torch']}"
            + (f", commit `{result['commit']}`" if result.get("commit") else "") + ".")
    if result.get("note"):
        head += f" {result['note']}"
    lines = [head, ""]
    columns = list(dict.fromkeys(r["column"] for r in rows if r.get("column")))
    if not columns:
        has_budget = any(r.get("budget") is not None for r in rows)
        lines += ["| what | measured |" + (" budget |" if has_budget else ""),
                  "|---|---|" + ("---|" if has_budget else "")]
        lines += [f"| {r['what']} | {with_unit(r['value'], r['unit'])} |" + (f" {budget(r)} |" if has_budget else "")
                  for r in rows]
    else:
        lines += ["| what | " + " | ".join(columns) + " | budget |", "|---|" + "---|" * (len(columns) + 1)]
        for what in dict.fromkeys(r["what"] for r in rows):
            mine = {r["column"]: r for r in rows if r["what"] == what}
            cells = [with_unit(mine[c]["value"], mine[c]["unit"]) if c in mine else "" for c in columns]
            bounded = [r for r in mine.values() if r.get("budget") is not None]
            lines.append(f"| {what} | " + " | ".join(cells) + f" | {budget(bounded[-1]) if bounded else ''} |")
    return "\n".join(lines) + "\n"


def pretrained_table(kind: str) -> str:
    """The quality each shipped network measured when it was built (its JSON in pretrained/), as a table:
    "eps" the 2D ε networks, "cond" the class-conditional ones, "flow" the velocity networks, "digits" the U-Net."""
    metas = {p.stem: json.loads(p.read_text()) for p in sorted(PRETRAINED_DIR.glob("*.json"))}
    if kind == "digits":
        from explorer.measure.evaluation import CONFIDENT  # the cut the classifier's verdicts were counted with

        m = metas["digits"]["metrics"]
        return (f"| training | recognised (confidence ≥ {CONFIDENT:g}) | classes | copies of a training image "
                "| bar passed |\n|---|---|---|---|---|\n"
                f"| {metas['digits']['training_time_s']:.0f} s | {m['recognised']:.0%} | {m['classes']} | "
                f"{m['copies']:.0%} | {'yes' if m['passed'] else 'no'} |\n")
    if kind == "mnist":
        from explorer.measure import mnist_eval

        m, q = metas["mnist"], metas["mnist"]["metrics"]
        judge = metas["mnist_classifier"]
        return (f"| training | steps | recognised (confidence ≥ {mnist_eval.CONFIDENT:g}) | classes | largest class | "
                f"near-copies | guided w = {q['guided_scale']:g}: worst class read right | bar passed |\n"
                "|---|---|---|---|---|---|---|---|\n"
                f"| {m['training_time_s'] / 60:.0f} min | {m['training_steps']:,} | {q['recognised']:.0%} | {q['classes']} | "
                f"{q['largest_class_share']:.0%} | {q['near_copies']:.0%} | {q['guided_right_min']:.0%} | "
                f"{'yes' if q['passed'] else 'no'} |\n\n"
                f"The judge: a CNN trained on {5000 - judge['held_out']:,} of the digits, right on "
                f"{judge['held_out_accuracy']:.1%} of the other {judge['held_out']}.\n")
    suffix = {"eps": "", "cond": "_cond", "flow": "_flow"}[kind]
    chosen = {n.removesuffix(suffix): m for n, m in metas.items()
              if n not in ("digits", "mnist", "mnist_classifier") and n.endswith(suffix)
              and (suffix or not n.endswith(("_cond", "_flow")))}
    rows = []
    for name, m in chosen.items():
        label = name.replace("_", " ") + (f' ("{m["word"]}")' if m.get("word") else "")
        q = m["metrics"]
        if kind == "cond":
            worst = max(q["classes"], key=lambda c: max(c["sw"].values()) / c["bar"])
            rows.append(f"| {label} | {len(q['classes'])} | {m['training_time_s']:.1f} s | "
                        f"{max(q['unconditional']['sw'].values()):.3f} / {q['unconditional']['bar']:.3f} | "
                        f"{worst['class']}: {max(worst['sw'].values()):.3f} / {worst['bar']:.3f} |")
        else:
            rows.append(f"| {label} | {m['training_time_s']:.1f} s | " + " | ".join(f"{v:.3f}" for v in q["sw"].values())
                        + f" | {q['bar']:.3f} |")
    if kind == "cond":
        head = ("| data set | classes | training | no class: SW / bar | the class nearest its bar: SW / bar |\n"
                "|---|---|---|---|---|\n")
    else:
        settings = list(next(iter(chosen.values()))["metrics"]["sw"])  # the same three settings for every set
        head = ("| data set | training | " + " | ".join(settings) + " | bar |\n|---|---|" + "---|" * len(settings)
                + "---|\n")
    return head + "\n".join(rows) + "\n"


def render_pretrained(text: str) -> str:
    return NETS.sub(lambda m: m[1] + pretrained_table(m[2]) + m[4], text)


def load(name: str) -> dict:
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"bench/README.md names results '{name}', but {path} does not exist: run its benchmark")
    return json.loads(path.read_text())


def render(text: str) -> str:
    """The README with every table made anew from its results file."""
    return BLOCK.sub(lambda m: m[1] + table(load(m[2])) + m[4], text)


def named(text: str) -> set[str]:
    return {m[2] for m in BLOCK.finditer(text)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    text, nets = README.read_text(), PRETRAINED_README.read_text()
    new, new_nets = render(text), render_pretrained(nets)
    unshown = sorted({p.stem for p in RESULTS_DIR.glob("*.json")} - named(text))
    if unshown:
        print(f"results without a table in bench/README.md: {', '.join(unshown)}", file=sys.stderr)
    if args.check:
        sys.exit(1 if new != text or new_nets != nets or unshown else 0)
    README.write_text(new)
    PRETRAINED_README.write_text(new_nets)
    print(f"wrote {len(named(text))} tables to {README} and {len(NETS.findall(nets))} to {PRETRAINED_README}")


if __name__ == "__main__":
    main()
