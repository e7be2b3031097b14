"""Figures made once and shown to many sessions (explorer.draw.figures re-exports Frozen).

Showing a plotly figure asks for its to_dict(), which deep-copies it and base64-encodes every array
again on each call. A Frozen figure makes that dict once; pages keep them in st.cache_resource.
"""
from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go


class Frozen(go.Figure):
    """A figure whose dict is made once and handed out as is (never change one): for the reverse page's
    animation, to_dict costs ~15 ms a session and a rerun; thirty sessions showing one view share one."""

    def __init__(self, fig: go.Figure, frames: list[dict] | None = None):
        """fig's dict; frames, if given, are animation frames as plain dicts (numpy arrays inside) that
        skip plotly's validation: 51 frames of 1,000 points cost ~45 ms through go.Figure, ~3 ms here."""
        super().__init__()  # an empty figure: the content lives in the frozen dict only
        self._frozen = fig.to_dict()
        if frames is not None:
            self._frozen["frames"] = _plain(frames)

    @classmethod
    def of_dict(cls, spec: dict) -> "Frozen":
        """A Frozen figure of a figure dict as to_dict() writes it (not validated again)."""
        fig = cls.__new__(cls)
        go.Figure.__init__(fig)
        fig._frozen = spec
        return fig

    def to_dict(self) -> dict:
        return self._frozen

    def to_plotly_json(self) -> dict:
        return self._frozen


_TYPED = {"float64": "f8", "float32": "f4", "int32": "i4", "int16": "i2", "int8": "i1", "uint8": "u1"}


def _plain(value):
    """value with every numpy array as plotly's base64 typed array ({"dtype", "bdata"}), as to_dict writes
    it; int64 arrays become int32, as there (plotly.js has no 64-bit integers)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        a = value.astype(np.int32) if value.dtype == np.int64 else value
        if a.ndim != 1 or str(a.dtype) not in _TYPED:
            raise ValueError(f"cannot send an array of shape {a.shape} and dtype {a.dtype} as a typed array")
        return {"dtype": _TYPED[str(a.dtype)], "bdata": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()}
    if isinstance(value, np.generic):
        return value.item()
    return value
