"""torch's intra-op threads in a server's script thread, set without importing torch (the first page shows before
torch has loaded)."""
from __future__ import annotations

import sys


def limit_torch_threads(n: int) -> None:
    """Set torch's intra-op threads to n if torch is loaded. Another session's script may be importing torch at this
    moment: sys.modules then holds the partly initialised module, without get_num_threads yet (an AttributeError
    that tabs saw when a class arrived at a fresh server). That one is left alone: OMP_NUM_THREADS, set before,
    applies when its import finishes."""
    torch = sys.modules.get("torch")
    if torch is None or getattr(getattr(torch, "__spec__", None), "_initializing", False):
        return
    get, put = getattr(torch, "get_num_threads", None), getattr(torch, "set_num_threads", None)
    if get is not None and put is not None and get() != n:
        put(n)
