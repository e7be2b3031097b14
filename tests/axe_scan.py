"""axe-core scans of a live page (axe-playwright-python bundles axe.min.js: no network), shared by
tests/test_a11y.py (every page and view) and tests/test_presenter.py (every page in presenter mode)."""
BLOCKING = ("serious", "critical")

# Nodes outside our reach, by rule: a CSS class the node carries, and why it cannot be fixed from the app.
EXCLUDED = {
    "scrollable-region-focusable": {
        # st.latex's display formula sits in a box of Streamlit's with overflow-x: auto; a formula wider than
        # its column (the Forward page's step in detail, 2 px too wide at 1400 px) makes it a scroller without
        # tabindex. Streamlit offers no attribute for it and CSS cannot add one; letting it overflow instead
        # clips the formula (an ancestor hides overflow). Chromium (≥ 130) and Firefox make such scrollers
        # keyboard-focusable themselves, so keyboard users can still scroll it there.
        "katex-display": "st.latex's scroll box (Streamlit markup)",
    },
}


def _excluded(rule: str, node: dict) -> bool:
    classes = EXCLUDED.get(rule, {})
    return any(f'class="{c}"' in node["html"] or f'class="{c} ' in node["html"] for c in classes)


def blocking_violations(result: dict) -> list[dict]:
    """axe's violations of impact serious or critical, less the nodes EXCLUDED names."""
    out = []
    for v in result["violations"]:
        if v["impact"] not in BLOCKING:
            continue
        nodes = [n for n in v["nodes"] if not _excluded(v["id"], n)]
        if nodes:
            out.append({**v, "nodes": nodes})
    return out


def report(violations: list[dict], shown: int = 3) -> str:
    lines = []
    for v in violations:
        targets = "; ".join(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                            for n in v["nodes"][:shown])
        more = f" (+{len(v['nodes']) - shown} more)" if len(v["nodes"]) > shown else ""
        lines.append(f"{v['id']} [{v['impact']}] {v['help']}: {len(v['nodes'])} node(s): {targets}{more}\n"
                     f"    {v['nodes'][0].get('failureSummary', '').strip().splitlines()[-1]}")
    return "\n".join(lines)




def scan(page) -> list[dict]:
    """Run axe-core on the page as it stands; its blocking violations (serious or critical, less EXCLUDED)."""
    from axe_playwright_python.base import AXE_SCRIPT  # axe.min.js, shipped inside the wheel
    page.evaluate(AXE_SCRIPT)
    return blocking_violations(page.evaluate("() => axe.run(document, {resultTypes: ['violations']})"))
