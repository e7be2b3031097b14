"""A class at once, measured without a browser: sessions that speak Streamlit's own websocket protocol.

Each simulated student opens `/_stcore/stream` (subprotocol "streamlit") as the browser does, sends
`BackMsg.rerun_script` with the page and the URL's query string (and, on reruns, the page hash from
the navigation message and the hashes of the cacheable messages it already holds), and reads
ForwardMsgs up to `script_finished`. A run counts its bytes, its exception elements and its error
alerts (a script that raised still reports success). Loopback only; every loop is bounded in count
and in time.

    python -m bench.load [--n 1 5 10] [--page reverse] [--query "T=1000"] [--cases open rerun ...]
                         [--linger 180] [--deploy K | --url http://127.0.0.1:PORT]
    python -m bench.load --scenario class [--n 60] [--deploy 2]   # a lesson with a class: bench/load_class.py

Without --url it starts the explorer itself (the README's run command) and reports its memory.
Cases, for each N: N fresh tabs open the same, already computed view together ("open"); the same
tabs rerun it back to back ("rerun"); N fresh tabs open the same new link at the same moment ("new
view": T changed, computed once for all of them); N fresh tabs open N links that differ in the seed
("seeds"); between rerun and new view, the open tabs all move the T slider to 250 at the same moment
("slider": the slider's new widget state and the tab's URL, as the browser sends them; the run fails
unless the server then puts T=250 in the tab's URL). p50 / p95 / max seconds, kB per run, server RSS
after each case. --linger S: every tab leaves, and the RSS S seconds later.
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bench.common import report, save

RUN_TIMEOUT_S = 300  # one script run may take at most this long
MAX_MESSAGES = 20_000  # ForwardMsgs read for one run at most
ERROR_ALERT = 1  # Alert.Format.ERROR
FINISHED_EARLY_FOR_RERUN = 2  # ForwardMsg.ScriptFinishedStatus: st.rerun ended the run; the next one follows
MAX_LINGER_S = 600  # the longest wait for the memory left after the sessions leave


@dataclass
class Run:
    seconds: float
    bytes: int
    exceptions: int
    errors: int
    status: int  # ScriptFinishedStatus; 0: finished successfully
    messages: tuple = ()  # the text of every exception and error shown


@dataclass
class Session:
    """One browser tab, as far as the server can tell."""

    url: str
    page: str
    cached: set = field(default_factory=set)  # hashes of cacheable messages this tab holds
    page_hash: str = ""
    query: str = ""  # the tab's URL query string, as the server last set it (the browser's address bar)
    widgets: dict = field(default_factory=dict)  # widget id -> element kind, for the widgets on the page
    labels: dict = field(default_factory=dict)  # widget id -> its label
    values: dict = field(default_factory=dict)  # widget id -> WidgetState: what the tab's widgets hold, sent each run
    fragments: dict = field(default_factory=dict)  # fragment id -> seconds between its automatic reruns
    shown: dict = field(default_factory=lambda: {"page": ([], []), "fragment": ([], [])})  # texts and charts that
    # the last whole-page run showed, and the last fragment run: a fragment's run replaces only its own part

    def __post_init__(self):
        ws_url = self.url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self._connection = connect(ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=30)
        self.ws = self._connection.__enter__()
        self._part = "page"

    @property
    def texts(self) -> list:
        """What the screen shows as text (markdown, alerts, metrics, …): the page's last run, then its fragment's."""
        return self.shown["page"][0] + self.shown["fragment"][0]

    @property
    def charts(self) -> list:
        """The screen's Plotly figures (JSON), as texts."""
        return self.shown["page"][1] + self.shown["fragment"][1]

    def run(self, query: str, widget_states: list[WidgetState] = (), fragment_id: str = "") -> Run:
        """One rerun, as the browser asks for it: the widget states given, over the values the tab's widgets hold
        (`values`); with fragment_id, that fragment's timer going off. A run the script ends with st.rerun goes
        on to the run that follows it."""
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = self.page
        msg.rerun_script.page_script_hash = self.page_hash
        msg.rerun_script.cached_message_hashes.extend(sorted(self.cached))
        given = {w.id for w in widget_states}
        msg.rerun_script.widget_states.widgets.extend([v for k, v in self.values.items() if k not in given])
        msg.rerun_script.widget_states.widgets.extend(widget_states)
        if fragment_id:
            msg.rerun_script.fragment_id = fragment_id
            msg.rerun_script.is_auto_rerun = True
        self.query = query
        t0 = time.perf_counter()
        self.ws.send(msg.SerializeToString())
        return self._read_run(t0, t0 + RUN_TIMEOUT_S)

    def listen(self, seconds: float) -> Run | None:
        """Wait up to `seconds` for a run the server starts on its own (a push), as a browser tab shows it; the
        run when one ended, else None."""
        t0 = time.perf_counter()
        try:
            return self._read_run(t0, t0 + seconds, first_within=seconds)
        except TimeoutError:
            return None

    def _read_run(self, t0: float, deadline: float, first_within: float | None = None) -> Run | None:
        """Read ForwardMsgs until a script_finished (a run that st.rerun ended goes on to the next one); None when
        nothing came within `first_within` seconds."""
        nbytes = exceptions = errors = 0
        messages, started = [], False
        for _ in range(MAX_MESSAGES):
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            try:
                raw = self.ws.recv(timeout=left)
            except TimeoutError:
                if first_within is not None and not started:
                    return None
                raise
            nbytes += len(raw)
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            if fm.metadata.cacheable and fm.hash:
                self.cached.add(fm.hash)
            kind = fm.WhichOneof("type")
            if kind == "new_session":  # a run began: of the whole page, or of fragments only
                self._part = "fragment" if fm.metadata.run.fragment_ids else "page"
                self.shown["fragment"] = ([], [])
                if self._part == "page":
                    self.shown["page"] = ([], [])
                if first_within is not None and not started:  # give it the time any run gets
                    deadline = time.perf_counter() + RUN_TIMEOUT_S
                started = True
            if kind == "navigation":
                self.page_hash = fm.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = fm.page_info_changed.query_string
            elif kind == "auto_rerun":
                self.fragments[fm.auto_rerun.fragment_id] = fm.auto_rerun.interval
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                element = fm.delta.new_element
                body = getattr(element, element.WhichOneof("type") or "", None)
                widget_id = getattr(body, "id", "")
                if widget_id.startswith("$$ID"):
                    self.widgets[widget_id] = element.WhichOneof("type")
                    self.labels[widget_id] = getattr(body, "label", "")
                self._keep_text(element)
                if element.WhichOneof("type") == "exception":
                    exceptions += 1
                    messages.append(f"exception: {element.exception.type}: {element.exception.message}")
                elif element.WhichOneof("type") == "alert" and element.alert.format == ERROR_ALERT:
                    errors += 1
                    messages.append(f"error: {element.alert.body}")
            elif kind == "script_finished" and fm.script_finished != FINISHED_EARLY_FOR_RERUN:  # (else: one follows)
                return Run(time.perf_counter() - t0, nbytes, exceptions, errors, fm.script_finished, tuple(messages))
        raise TimeoutError(f"no script_finished within {RUN_TIMEOUT_S} s or {MAX_MESSAGES} messages")

    def _keep_text(self, element) -> None:
        kind = element.WhichOneof("type")
        texts, charts = self.shown[self._part]
        if kind in ("markdown", "text", "alert", "heading"):
            texts.append(getattr(element, kind).body)
        elif kind == "progress":
            texts.append(element.progress.text)
        elif kind == "metric":
            texts.append(f"{element.metric.label}: {element.metric.body}")
        elif kind == "plotly_chart":
            charts.append(element.plotly_chart.spec)

    def widget(self, kind: str, key: str | None = None, label: str | None = None) -> str:
        """The id of the one widget of this kind on the page with this key (or, for a widget without a key, label)."""
        ids = [w for w, k in self.widgets.items() if k == kind and (key is None or w.endswith(f"-{key}"))
               and (label is None or self.labels.get(w) == label)]
        if len(ids) != 1:
            raise LookupError(f"no single {kind} with key {key!r}, label {label!r}: {sorted(self.labels.items())}")
        return ids[0]

    def move_slider(self, key: str, value: float) -> Run:
        """Move the slider whose widget key is `key` to `value`, as the browser does: a rerun with the
        slider's new state and the tab's current URL (the other widgets keep their values)."""
        ids = [w for w, kind in self.widgets.items() if kind == "slider" and w.endswith(f"-{key}")]
        if len(ids) != 1:
            raise LookupError(f"no single slider with key {key!r} on the page: {sorted(self.widgets)}")
        state = WidgetState(id=ids[0])
        state.double_array_value.data.append(value)
        return self.run(self.query, [state])

    def close(self) -> None:
        self._connection.__exit__(None, None, None)

    def close_quietly(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 — the connection is already gone
            pass


@dataclass
class Outcome:
    """What one tab saw in a failover run: its views, how often it had to reconnect, what went wrong."""

    views: int = 0
    reconnects: int = 0
    exceptions: int = 0
    errors: int = 0
    lost: int = 0  # views never shown, even after reconnecting
    messages: list = field(default_factory=list)  # what the exceptions and errors said


def keep_viewing(url: str, page: str, queries: list[str], retries: int = 3) -> Outcome:
    """One tab asks for each view in turn, as a browser would: when its connection drops (its replica
    died), it reconnects — through the same URL, so nginx picks a live replica — and asks again for the
    view in its URL. A view is lost if it never arrives after `retries` reconnections."""
    out = Outcome()
    tab = Session(url, page)
    try:
        for query in queries:
            for attempt in range(retries + 1):
                try:
                    run = tab.run(query)
                except (ConnectionError, OSError, ConnectionClosed):
                    tab.close_quietly()
                    out.reconnects += 1
                    time.sleep(0.2 * (attempt + 1))  # the browser, too, waits a moment before reconnecting
                    try:
                        tab = Session(url, page)
                    except (ConnectionError, OSError, ConnectionClosed):
                        continue
                    continue
                out.views += run.status == 0
                out.exceptions += run.exceptions
                out.errors += run.errors
                out.messages += run.messages
                break
            else:
                out.lost += 1
    finally:
        tab.close_quietly()
    return out


def failover(url: str, n: int, page: str, queries: list[str], kill: Callable[[], None], kill_after_s: float) -> list[Outcome]:
    """n tabs go through `queries` at once; `kill` (a replica) runs kill_after_s seconds in."""
    outcomes: list[Outcome | None] = [None] * n
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            outcomes[i] = keep_viewing(url, page, [f"{q}&seed={i % 5}" for q in queries])
        except BaseException as err:  # noqa: BLE001 — reported after the join
            failures.append(err)
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    time.sleep(kill_after_s)
    kill()
    for t in threads:
        t.join(RUN_TIMEOUT_S * len(queries))
    if failures or any(o is None for o in outcomes):
        raise RuntimeError(f"{len(failures)} tabs failed: {failures[:1]!r}")
    return outcomes


def together(sessions: list[Session], queries: list) -> list[Run]:
    """Every session runs its query (or its action: a function of the session) at the same moment."""
    out: list[Run | None] = [None] * len(sessions)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(sessions))

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            act = queries[i]
            out[i] = act(sessions[i]) if callable(act) else sessions[i].run(act)
        except BaseException as err:  # noqa: BLE001 — reported after the join
            errors.append(err)
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(RUN_TIMEOUT_S + 60)
    if errors or any(r is None for r in out):
        raise RuntimeError(f"{len(errors)} sessions failed: {errors[:1]!r}")
    return out


def summary(case: str, n: int, runs: list[Run]) -> dict:
    secs = sorted(r.seconds for r in runs)
    p95 = secs[min(len(secs) - 1, max(0, round(0.95 * len(secs)) - 1))]
    return {"case": case, "n": n, "p50": statistics.median(secs), "p95": p95, "max": secs[-1],
            "kB": statistics.mean(r.bytes for r in runs) / 1000, "exceptions": sum(r.exceptions for r in runs),
            "errors": sum(r.errors for r in runs), "failed": sum(r.status != 0 for r in runs)}


def rss_mb(pid) -> float | None:
    """Resident memory of a process (a pid), or of several together (a callable giving the pids now)."""
    if pid is None:
        return None
    total = 0.0
    for p in (pid() if callable(pid) else [pid]):
        with open(f"/proc/{p}/status") as f:
            total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
    return total


CASES = ("open", "rerun", "slider", "new view", "seeds")
SLIDER_KEY, SLIDER_TO = "T", 250  # the slider every tab moves in the "slider" case, and where to


def slide(tab: Session) -> Run:
    """Move the T slider in an open tab; the run counts as failed unless the tab's URL then says so."""
    run = tab.move_slider(SLIDER_KEY, SLIDER_TO)
    if f"{SLIDER_KEY}={SLIDER_TO}" not in tab.query.split("&"):
        run.status = -1
    return run


def measure(url: str, n: int, page: str, query: str, new_query: str, pid: int | None = None,
            only: tuple[str, ...] = CASES, linger: float = 0, warmups: int = 1) -> list[dict]:
    """The cases for n sessions (all four, or those in `only`); each row also carries the server's RSS.

    The first row ("first view") is one session computing the view alone: the server's memory before
    the class (`warmups` tabs open it one after the other: through nginx, 4 per replica reach them all
    but with a chance of 2 × 2⁻⁸ for two replicas). With linger > 0 (and the server's pid), every session then leaves, and a last row
    ("left") gives the RSS `linger` seconds later (Streamlit drops a disconnected session after 120 s).
    """
    opened: list[Session] = []

    def fresh() -> list[Session]:
        tabs = [Session(url, page) for _ in range(n)]
        opened.extend(tabs)
        return tabs
    rows = []
    try:
        warm = [Session(url, page) for _ in range(max(1, warmups))]
        opened.extend(warm)
        rows.append(summary("first view", 1, [warm[0].run(query)]))  # computed before the class arrives
        for tab in warm[1:]:  # behind nginx: more tabs, so that every replica has computed it
            tab.run(query)
        rows[-1]["rss_mb"] = rss_mb(pid)
        tabs = fresh()
        cases = [("open", tabs, [query] * n), ("rerun", tabs, [query] * n), ("slider", tabs, [slide] * n),
                 ("new view", fresh(), [new_query] * n),
                 ("seeds", fresh(), [f"{query}&seed={50 + i}" for i in range(n)])]
        for case, sessions, queries in cases:
            if case not in only:
                continue
            rows.append(summary(case, n, together(sessions, queries)))
            rows[-1]["rss_mb"] = rss_mb(pid)
    finally:
        for s in opened:
            s.close()
    if linger > 0 and pid is not None:
        time.sleep(min(linger, MAX_LINGER_S))
        rows.append({"case": "left", "n": n, "rss_mb": rss_mb(pid)})
    return rows


def print_rows(rows: list[dict]) -> None:
    """One line per case; memory per session is the RSS above the first view's, over N."""
    print(f"{'case':<11}{'N':>4}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'kB/run':>8}{'exc':>5}{'err':>5}{'fail':>5}{'RSS MB':>8}"
          f"{'MB/N':>7}")
    base = next((r["rss_mb"] for r in rows if r["case"] == "first view"), None)
    for r in rows:
        rss = f"{r['rss_mb']:.0f}" if r.get("rss_mb") is not None else "—"
        per = f"{(r['rss_mb'] - base) / r['n']:.1f}" if r.get("rss_mb") is not None and base is not None \
            and r["case"] != "first view" else ""
        if "p50" not in r:
            print(f"{r['case']:<11}{r['n']:>4}{'':>50}{rss:>8}{per:>7}")
            continue
        print(f"{r['case']:<11}{r['n']:>4}{r['p50']:>8.2f}{r['p95']:>8.2f}{r['max']:>8.2f}{r['kB']:>8.0f}"
              f"{r['exceptions']:>5}{r['errors']:>5}{r['failed']:>5}{rss:>8}{per:>7}")


# what each case is, as the results table says it, and its p95 budget in seconds (DESIGN.md: a class at once)
CASE_WORDS = {"open": ("open the same, already computed view", 2.0), "rerun": ("rerun it, same settings", 2.0),
              "slider": (f"move the {SLIDER_KEY} slider to {SLIDER_TO} in the open tabs", 4.0),
              "new view": ("open the same new link", 4.0),
              "seeds": ("open N links with N different seeds (budget at N = 10)", 4.0)}
MEMORY_BUDGET_MB = {"seeds": 30.0, "left": 15.0}  # per tab: computing its own run; idle, after the tabs left


def record(rows: list[dict]) -> None:
    """Keep each case's p95 (and the memory per tab) for the results file: one column per N."""
    base = next((r["rss_mb"] for r in rows if r["case"] == "first view"), None)
    for r in rows:
        column = f"N = {r['n']}"
        if r["case"] in CASE_WORDS:
            what, budget = CASE_WORDS[r["case"]]
            if r["case"] == "seeds" and r["n"] != 10:
                budget = None
            report(f"{what}, p95", r["p95"], budget, column=column)
        if r["case"] in MEMORY_BUDGET_MB and r.get("rss_mb") is not None and base is not None:
            what = ("server memory per tab computing its own run" if r["case"] == "seeds" else
                    "server memory per tab after every tab left")
            report(what, (r["rss_mb"] - base) / r["n"], MEMORY_BUDGET_MB[r["case"]], unit="MB", column=column)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", choices=["views", "class"], default="views",
                    help="views: the cases below on one page; class: a teacher and N students through a lesson "
                         "(bench/load_class.py; N = 60 by default)")
    ap.add_argument("--n", type=int, nargs="+")
    ap.add_argument("--page", default="reverse")
    ap.add_argument("--query", default="T=1000")
    ap.add_argument("--new-query", default="T=200")
    ap.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    ap.add_argument("--linger", type=float, default=0,
                    help="after the cases, every session leaves; report the RSS this many seconds later (180)")
    ap.add_argument("--deploy", type=int, metavar="K",
                    help="measure through deploy/serve: nginx in front of K replicas (RSS: all replicas together)")
    ap.add_argument("--url", help="an explorer already running (loopback); default: start one")
    args = ap.parse_args()
    if args.scenario == "class":
        from bench import load_class
        load_class.main(args.n or [60], args.deploy)
        return
    args.n = args.n or [1, 5, 10]
    if args.url:
        for n in args.n:
            print_rows(measure(args.url, n, args.page, args.query, args.new_query, only=tuple(args.cases)))
        return
    note = f"Page {args.page}, {args.query}; new link {args.new_query}; a fresh server for each N."
    from bench.live import replica_pids, serve_app, serve_deploy

    if args.deploy:
        for n in args.n:
            with serve_deploy(replicas=args.deploy) as (url, proc):
                print(f"deploy/serve, {args.deploy} replica(s):")
                rows = measure(url, n, args.page, args.query, args.new_query, pid=lambda: replica_pids(proc.pid),
                               only=tuple(args.cases), linger=args.linger, warmups=4 * args.deploy)
                print_rows(rows)
                record(rows)
        save(f"load_deploy{args.deploy}", note=f"Through deploy/serve: nginx in front of {args.deploy} replica(s). "
             + note)
        return

    for n in args.n:  # a fresh server per N: nothing cached from the last N but the one first run
        with serve_app(with_process=True) as (url, _, proc):
            rows = measure(url, n, args.page, args.query, args.new_query, pid=proc.pid, only=tuple(args.cases),
                           linger=args.linger)
            print_rows(rows)
            record(rows)
    save(("load" if args.page == "reverse" else f"load_{args.page}") + ("_linger" if args.linger else ""), note=note)


if __name__ == "__main__":
    main()
