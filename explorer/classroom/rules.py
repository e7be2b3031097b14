"""The class's rules, the same for every page and replica: what a class code is (random, read aloud without
ambiguity), what a display name or an answer may be (bounded plain text), how many students a class takes, how long
an idle class lives, and where the database is by default."""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: nothing to mishear or misread
CODE_LENGTH = 7  # 31⁷ ≈ 2.8·10¹⁰ codes: 34.7 bits
MAX_NAME, MAX_VALUE = 40, 200  # characters
MAX_STUDENTS = 500
IDLE_SECONDS = 12 * 3600
ENV = "DIFFUSION_EXPLORER_CLASS_DB"


def default_url() -> str:
    """$DIFFUSION_EXPLORER_CLASS_DB (a database URL or a file path), else class.db in the user's data directory."""
    given = os.environ.get(ENV, "").strip()
    if "://" in given:
        return given
    if given:
        path = Path(given).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.environ.get("LOCALAPPDATA") or Path.home() / ".local" / "share"
        path = Path(base) / "diffusion-explorer" / "class.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def normalise_code(code) -> str:
    """A class code as typed or read aloud: case, spaces and dashes do not matter."""
    if not isinstance(code, str):
        raise LookupError("A class code is a short text such as K7MQ2XA.")
    return "".join(c for c in code.upper() if c not in " -\t")


def check_text(value, limit: int, what: str) -> str:
    """A name or an answer: text of 1 … limit characters (spaces around it dropped), no control characters."""
    if not isinstance(value, str):
        raise ValueError(f"The {what} must be text.")
    value = value.strip()
    if not value:
        raise ValueError(f"The {what} is empty.")
    if len(value) > limit:
        raise ValueError(f"The {what} is {len(value)} characters long; at most {limit}.")
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in value):
        raise ValueError(f"The {what} contains a control character (a line break, a tab, …); use plain text.")
    return value
