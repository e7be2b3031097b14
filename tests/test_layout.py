"""The package's public face and its shape on disk: the public API importable from the root without loading torch,
documented in the README's glossary; the README read in one sitting; a wheel that holds every folder."""
import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path
import shutil

import pytest

import explorer

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# the names the house issue asks for at the root, beside DESIGN.md's public API
REQUIRED = """make_schedule SCHEDULE_KINDS q_sample q_step forward_trajectory GaussianMixture EmpiricalData ddpm_sample
ddim_sample langevin_sample heun_sample SAMPLERS sliced_wasserstein precision_recall load_pretrained pick_device
flow_sample ode_log_likelihood cfg_eps_model toy_2d digits exact_eps_model""".split()


def test_the_public_api_is_importable_from_the_root():
    assert set(REQUIRED) <= set(explorer.__all__)
    for name in explorer.__all__:
        value = getattr(explorer, name)
        module = sys.modules[explorer._PUBLIC[name]]
        assert value is getattr(module, name), name  # the very object its module defines, not a copy
    namespace = {}
    exec(f"from explorer import {', '.join(REQUIRED)}", namespace)
    assert namespace["make_schedule"]("linear", T=10).T == 10


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'schedules'"):
        explorer.schedules  # noqa: B018 — old module paths are not kept


def test_importing_the_package_does_not_load_torch():
    """app.py imports explorer before any page runs: the title must not wait for torch."""
    code = "import sys, explorer; print('torch' in sys.modules, 'streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]


def glossary() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Glossary"):]


def test_the_readme_glossary_documents_every_public_name():
    g = glossary()
    missing = [n for n in explorer.__all__ if not re.search(rf"`[^`]*\b{re.escape(n)}\b[^`]*`", g)]
    assert not missing, missing


def test_the_readme_reads_in_one_sitting():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    for heading in ("## Quick start", "## For teachers", "## Page tour", "## How it is tested", "## Layout"):
        assert heading in text, heading
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert pictures and all(p.startswith("docs/") and (ROOT / p).is_file() for p in pictures), pictures
    tracked = subprocess.run(["git", "ls-files", *pictures], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert sorted(tracked) == sorted(pictures), "the README's picture must be committed"


# a measured figure: a number followed by a unit of time, memory, a ratio or a share (28×28 is a size, not a ratio)
MEASURED = re.compile(r"(?<![\w.])\d[\d,.]*\s?(?:ms|s|min|MB|GB|kB|%|×(?!\s?\d))(?!\w)")


def test_the_readme_types_no_measured_figure():
    """Figures live in bench/README.md, written from the benchmarks' results files."""
    assert MEASURED.search("took 1.5 s") and MEASURED.search("1.02×") and not MEASURED.search("28×28 pixels, 8 × 8 digits")
    hits = [line for line in README.read_text(encoding="utf-8").splitlines() if MEASURED.search(line)]
    assert not hits, hits


def test_the_readme_layout_names_every_folder():
    layout = README.read_text(encoding="utf-8").split("## Layout")[1]
    folders = {p.parent.relative_to(ROOT / "explorer").parts[-1] for p in (ROOT / "explorer").rglob("__init__.py")
               if p.parent != ROOT / "explorer"}
    assert all(f"{f}/" in layout for f in folders), folders


def package_folders() -> set[str]:
    return {str(p.parent.relative_to(ROOT)) for p in (ROOT / "explorer").rglob("__init__.py")}


@pytest.mark.slow
def test_a_wheel_holds_every_package_and_module(tmp_path):
    """A non-editable install gets every folder: build the wheel from a copy of the project's sources."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "pyproject.toml", src)
    shutil.copy(README, src)
    shutil.copytree(ROOT / "explorer", src / "explorer", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(src)], check=True, capture_output=True, timeout=300)
    wheel, = (tmp_path / "dist").glob("diffusion_explorer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "explorer").rglob("*.py")}
    assert {f"{f}/__init__.py" for f in package_folders()} <= names
    assert modules <= names, sorted(modules - names)
    assert len(package_folders()) >= 8  # the root, its folders and ui's two


def test_every_package_docstring_says_what_it_holds():
    for folder in package_folders():
        doc = ast.get_docstring(ast.parse((ROOT / folder / "__init__.py").read_text())) or ""
        assert len(doc) > 80, folder
