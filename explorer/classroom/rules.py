"""The class's rules, the same for every page and replica: what a class code is (random, read aloud without
ambiguity), what a display name or an answer may be (bounded plain text), how many students a class takes, how long
an idle class lives, and where the database is by default."""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path

# Symbols that neither look nor sound alike: no 0/O, 1/I/L; of each group that rhymes when spoken (B C D E G P T V
# Z 3 · A J K · F S X · M N · Q U W · I Y) one at most, so "H as in hotel" is never needed.
ALPHABET = "245679HKMRWXY3"
CODE_LENGTH = 8  # 14⁸ ≈ 1.5·10⁹ codes: 30.5 bits; shown as two groups of four (K7MW-42XR)
MAX_NAME, MAX_VALUE = 40, 200  # characters
MAX_STUDENTS = 500
IDLE_SECONDS = 12 * 3600
REOPEN_SECONDS = 10 * 60  # a teacher link (a single-use token) is valid this long
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


NOT_A_CODE = (f"That is not a class code: a code is {CODE_LENGTH} letters and digits such as "
              f"{ALPHABET[5:9]}-{ALPHABET[:4]}.")


def normalise_code(code) -> str:
    """A class code as typed or read aloud: case, spaces and dashes do not matter. LookupError (which never repeats
    what was typed: a link's text is not the page's to show) when it cannot be a code."""
    if not isinstance(code, str):
        raise LookupError(NOT_A_CODE)
    code = "".join(c for c in code.upper() if c not in " -\t")
    if len(code) != CODE_LENGTH or not set(code) <= set(ALPHABET):
        raise LookupError(NOT_A_CODE)
    return code


def shown_code(code: str) -> str:
    """A code as shown and read aloud: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def check_text(value, limit: int, what: str) -> str:
    """A name or an answer: text of 1 … limit characters (spaces around it dropped), no control characters."""
    if not isinstance(value, str):
        raise ValueError(f"The {what} must be text.")
    value = value.strip()
    if not value:
        raise ValueError(f"The {what} is empty.")
    if len(value) > limit:
        raise ValueError(f"The {what} is {len(value)} characters long; at most {limit}.")
    # control and format characters (line breaks, tabs, right-to-left overrides, zero-width spaces), except the
    # zero-width joiner that joins emoji
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") and c != "\u200d" for c in value):
        raise ValueError(f"The {what} contains a control character (a line break, a tab, a direction mark, …); "
                         "use plain text.")
    return value
