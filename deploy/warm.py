"""Warm an explorer process before the class arrives: open every page at its defaults, once, headless.

    python deploy/warm.py http://127.0.0.1:8501 [--pages tradeoffs guidance ...]

Streamlit keeps its caches (st.cache_data, st.cache_resource) and the imported modules per process, so warming
must happen inside each replica: this opens a session on the replica's own websocket, as a browser tab does
(`/_stcore/stream`, subprotocol "streamlit", a BackMsg.rerun_script for the page), and reads until the script
has finished. Afterwards torch and the chart code are imported, the pretrained networks loaded, and every page's
default view computed (the heavy pages' defaults partly shipped in precomputed/), so a student's first visit
draws from the caches. deploy/serve --warm runs it on every replica before it starts nginx, and again on a
replica it restarts. The same protocol as bench/load.py, reduced to one run per page.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PAGES_INDEX = Path(__file__).resolve().parents[1] / "pages" / "index.json"
RUN_TIMEOUT_S = 300  # one page's default run may take at most this long
MAX_MESSAGES = 20_000  # ForwardMsgs read for one run at most


def pages() -> list[str]:
    """Every page's name as the app routes it (the file name without .py), in the sidebar's order."""
    return [p["file"].removesuffix(".py") for p in json.loads(PAGES_INDEX.read_text(encoding="utf-8"))]


def visit(url: str, page: str) -> tuple[float, int]:
    """Run `page` at its defaults in a fresh headless session; (seconds, exceptions shown). Raises on a timeout."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_name = page
    t0 = time.perf_counter()
    with connect(url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream", subprotocols=["streamlit"],
                 max_size=None, open_timeout=30) as ws:
        ws.send(msg.SerializeToString())
        exceptions = 0
        for _ in range(MAX_MESSAGES):
            left = RUN_TIMEOUT_S - (time.perf_counter() - t0)
            if left <= 0:
                break
            fm = ForwardMsg()
            fm.ParseFromString(ws.recv(timeout=left))
            kind = fm.WhichOneof("type")
            if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                exceptions += fm.delta.new_element.WhichOneof("type") == "exception"
            elif kind == "script_finished":
                return time.perf_counter() - t0, exceptions
    raise TimeoutError(f"{page}: no script_finished within {RUN_TIMEOUT_S} s")


def warm(url: str, names: list[str] | None = None, log=print) -> bool:
    """Visit every page (or `names`) once in turn; log one line; True if every page finished without an exception."""
    t0, ok, slow = time.perf_counter(), True, []
    for page in names or pages():
        try:
            seconds, exceptions = visit(url, page)
        except (OSError, TimeoutError, ConnectionError) as err:  # a dead replica is restarted by deploy/serve
            log(f"warming {url}: {page} failed ({err})")
            return False
        ok = ok and not exceptions
        slow.append(f"{page} {seconds:.1f} s" + (f" ({exceptions} exceptions)" if exceptions else ""))
    log(f"warmed {url} in {time.perf_counter() - t0:.1f} s: " + ", ".join(slow))
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url", help="one explorer process, e.g. http://127.0.0.1:8501")
    ap.add_argument("--pages", nargs="+", default=None, help=f"pages to open (default: all of {', '.join(pages())})")
    args = ap.parse_args()
    return 0 if warm(args.url, args.pages, log=lambda line: print(line, flush=True)) else 1


if __name__ == "__main__":
    sys.exit(main())
