import datetime as dt
import json

import pytest

from bench import runner
from bench.runner import Context, Figure


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(runner, "REGISTRY", {})

    @runner.benchmark("tiny")
    def tiny(ctx: Context) -> list[Figure]:
        n = ctx.size(1000, 10)
        ctx.state["seen"] = n
        return [
            Figure("tiny seconds", 2.0, "s", floor=0.5, target=3.0, note=f"n={n}"),
            Figure("tiny rate", 50.0, "rows/s", floor=200.0, target=100.0, higher_is_better=True),
        ]

    @runner.benchmark("other")
    def other(ctx: Context) -> list[Figure]:
        return [Figure("no target", 1.0, "ms")]

    return runner.REGISTRY


def test_it_runs_the_chosen_benchmarks_in_order(registry):
    figures, seconds = runner.run(quick=True, say=lambda m: None)
    assert [f.name for f in figures] == ["tiny seconds", "tiny rate", "no target"]
    assert figures[0].note == "n=10" and seconds >= 0
    figures, _ = runner.run(["other"], say=lambda m: None)
    assert [f.name for f in figures] == ["no target"]
    with pytest.raises(KeyError):
        runner.run(["missing"], say=lambda m: None)


def test_ratio_and_verdict_read_the_right_way_round():
    slow = Figure("t", 2.0, "s", floor=0.5, target=3.0)
    assert slow.ratio == 4.0 and slow.passed is True
    rate = Figure("r", 50.0, "rows/s", floor=200.0, target=100.0, higher_is_better=True)
    assert rate.ratio == 4.0 and rate.passed is False
    assert Figure("x", 1.0, "ms").passed is None and Figure("x", 1.0, "ms").ratio is None


def test_it_prints_one_table_and_writes_the_days_json(registry, tmp_path):
    figures, seconds = runner.run(quick=True, say=lambda m: None)
    text = runner.table(figures)
    lines = text.splitlines()
    assert lines[0].split() == ["figure", "value", "floor", "ratio", "target", "pass/short"]
    assert len(lines) == 2 + 3
    assert "pass" in lines[2] and "SHORT" in lines[3] and lines[4].rstrip().endswith("-")
    path = runner.write_results(
        figures, quick=True, database="sqlite", seconds=seconds, folder=tmp_path,
        today=dt.date(2026, 1, 2),
    )  # fmt: skip
    assert path == tmp_path / "2026-01-02.json"
    data = json.loads(path.read_text())
    assert data["quick"] is True and data["database"] == "sqlite"
    assert data["figures"][1]["passed"] is False and data["figures"][1]["ratio"] == 4.0


def test_the_project_benchmarks_register():
    names = runner.discover()
    assert {"synth", "people_list", "people_export"} <= set(names)


def test_a_failing_benchmark_is_reported_and_the_others_still_run(monkeypatch):
    monkeypatch.setattr(runner, "REGISTRY", {})

    @runner.benchmark("broken")
    def broken(ctx: Context) -> list[Figure]:
        raise RuntimeError("no database")

    @runner.benchmark("fine")
    def fine(ctx: Context) -> list[Figure]:
        return [Figure("fine", 1.0, "s", target=2.0)]

    seen = []
    figures, _ = runner.run(say=lambda m: None, on_result=lambda f, s: seen.append(len(f)))
    assert [f.name for f in figures] == ["broken: failed", "fine"]
    assert figures[0].value is None and "no database" in figures[0].note
    assert "FAILED" in runner.table(figures)
    assert seen == [1, 2]


def test_the_days_file_keeps_other_benchmarks_figures(tmp_path):
    day = dt.date(2026, 1, 3)
    runner.write_results(
        [Figure("a", 1.0, "s"), Figure("b", 2.0, "s")],
        quick=False, database="sqlite", seconds=1, folder=tmp_path, today=day,
    )  # fmt: skip
    path = runner.write_results(
        [Figure("b", 3.0, "s")], quick=True, database="sqlite", seconds=1, folder=tmp_path,
        today=day,
    )  # fmt: skip
    figures = {f["name"]: f for f in json.loads(path.read_text())["figures"]}
    assert figures["a"]["value"] == 1.0 and figures["a"]["quick"] is False
    assert figures["b"]["value"] == 3.0 and figures["b"]["quick"] is True


def test_the_load_generator_sends_each_request_and_counts_the_answers():
    """The one load generator of the HTTP benchmarks (its own process), against a
    small server here: GETs and JSON POSTs with their header lines, each once; and
    round and round for a time with a distinct query string each."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[tuple[str, str, str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, body: bytes = b"") -> None:
            seen.append((self.command, self.path, self.headers.get("X-Lane", ""), body.decode()))
            status = 201 if self.command == "POST" else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer(self.rfile.read(int(self.headers["Content-Length"])))

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        requests = [runner.get("/a"), runner.post("/b", '{"x": 1}'), runner.get("/c")]
        once = runner.http_load(port, requests, seconds=20, connections=2, headers=("X-Lane: 7",))
        assert once["done"] == 3 and once["statuses"] == {"200": 2, "201": 1}
        assert sorted(seen) == [
            ("GET", "/a", "7", ""),
            ("GET", "/c", "7", ""),
            ("POST", "/b", "7", '{"x": 1}'),
        ]
        seen.clear()
        loop = runner.http_load(
            port, [runner.get("/p?q=1")], seconds=0.5, connections=2, cycle=True, unique=True
        )
        assert loop["done"] > 3 and loop["done"] == len(seen) and loop["bytes"] == 2
        assert len({path for _m, path, _h, _b in seen}) == len(seen)
        assert all(path.startswith("/p?q=1&n=") for _m, path, _h, _b in seen)
    finally:
        server.shutdown()
