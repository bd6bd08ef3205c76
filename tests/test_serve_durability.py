"""`precode serve` as a real process: a kill -9 loses no decision it answered 201 for, and
several writers at once (two coders on one server, a second server, a terminal review) share
`decisions.jsonl` without losing, doubling or tearing a line."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.records import Decision
from pipeline.review.session import ReviewSession, load_review
from pipeline.run_folder import RunFolder
from pipeline.run_folder.decisions import DecisionLog, reviewed_codes
from tests.test_review_support import Transcript, make_run
from tests.test_serve_support import serving

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

def log_lines(run: RunFolder) -> list[dict[str, Any]]:
    """Every line of the log, parsed: a torn or interleaved line fails here."""
    raw = run.file("decisions.jsonl").read_bytes()
    assert raw.endswith(b"\n"), raw[-200:]
    lines = [json.loads(line) for line in raw.decode("utf-8").split("\n")[:-1]]
    assert all(isinstance(line, dict) and set(line) == {"segment_id", "code_id", "verdict",
                                                         "coder", "timestamp", "note"}
               for line in lines)
    assert len(DecisionLog(run.file("decisions.jsonl")).read()) == len(lines)
    return lines


def assert_answered_once_and_whole(lines: list[dict[str, Any]],
                                   answered: list[list[dict[str, Any]]]) -> None:
    """Every decision answered 201 is in the log exactly once, its lines together in the
    order the answer gave them (one write per decision: nothing interleaved)."""
    key = lambda record: json.dumps(record, sort_keys=True)  # noqa: E731
    keys = [key(line) for line in lines]
    count = Counter(keys)
    where = {k: i for i, k in enumerate(keys)}
    for records in answered:
        assert records
        for record in records:
            assert count[key(record)] == 1, (record, count[key(record)])
        start = where[key(records[0])]
        assert lines[start:start + len(records)] == records


def many_transcripts(n_sources: int, per_source: int) -> dict[str, Transcript]:
    """Sources with `per_source` participant sentences each (all different)."""
    topics = ["I keep hope for the future", "my peers support me", "the staff were kind",
              "I hear voices but I work", "the peer worker shared her story",
              "nurses train the new workers", "hope keeps me going", "we talked about lunch"]
    out: dict[str, Transcript] = {}
    for s in range(n_sources):
        sentences = [f"On day {s * per_source + k} {topics[k % len(topics)]}."
                     for k in range(per_source)]
        out[f"src{s}"] = [("Interviewer", "interviewer", ["Tell me about your week."]),
                          ("Nurse", "participant", sentences)]
    return out


def post(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.post("/api/decisions", json=body)
    assert answer.status_code == 201, answer.text
    records: list[dict[str, Any]] = answer.json()["decisions"]
    return records


def expected_codes(body: dict[str, Any]) -> set[str]:
    if body["verdict"] == "reject":
        return set()
    return set(body.get("codes") or [body["code"]])


# -- kill -9 -------------------------------------------------------------------------------------

def test_serve_sigkill_loses_no_answered_decision_and_a_new_server_resumes(
        tmp_path: Path, fast_config: dict) -> None:
    run = make_run(tmp_path / "run", fast_config)
    sent: dict[str, set[str]] = {}  # segment -> the codes of its latest answered decision
    answered: list[list[dict[str, Any]]] = []
    with serving(run.path, tmp_path) as server, server.client() as client:
        segments = client.get("/api/segments").json()["segments"]
        assert len(segments) == 10
        bodies = [
            {"segment_id": segments[0]["id"], "verdict": "accept",
             "code": segments[0]["suggestions"][0]["code"], "note": "first"},
            {"segment_id": segments[1]["id"], "verdict": "reject"},
            {"segment_id": segments[2]["id"], "verdict": "correct",
             "codes": ["hope", "staff"], "note": "two codes"},
            {"segment_id": segments[3]["id"], "verdict": "accept",
             "code": segments[3]["suggestions"][1]["code"]},
        ]
        for body in bodies:
            answered.append(post(client, body))
            sent[body["segment_id"]] = expected_codes(body)

        # Then decisions as fast as the server takes them, and the kill in the middle.
        stop = threading.Event()
        errors: list[BaseException] = []

        def hammer() -> None:
            k = 0
            with server.client() as fast:
                while not stop.is_set():
                    seg = segments[4 + k % 6]
                    body = {"segment_id": seg["id"], "verdict": "accept",
                            "code": seg["suggestions"][k % 3]["code"], "note": f"fast {k}"}
                    try:
                        answer = fast.post("/api/decisions", json=body)
                    except httpx.TransportError:
                        return  # killed while this one was in flight
                    except BaseException as exc:  # pragma: no cover - reported below
                        errors.append(exc)
                        return
                    if answer.status_code != 201:
                        errors.append(AssertionError(answer.text))
                        return
                    answered.append(answer.json()["decisions"])
                    sent[seg["id"]] = expected_codes(body)
                    k += 1

        thread = threading.Thread(target=hammer)
        thread.start()
        deadline = time.monotonic() + 10
        while len(answered) < len(bodies) + 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.kill() == -signal.SIGKILL
        stop.set()
        thread.join(timeout=30)
        assert not errors, errors
        assert len(answered) >= len(bodies) + 8, "the server took too few decisions"

    lines = log_lines(run)
    assert_answered_once_and_whole(lines, answered)
    # At most the one decision in flight at the kill was written without its answer.
    extra = [line for line in lines if not any(line in records for records in answered)]
    assert len({(line["segment_id"], line["note"]) for line in extra}) <= 1, extra
    if extra:  # that one is whole, and counts
        assert len(extra) == 3 and lines[-3:] == extra
        sent[extra[0]["segment_id"]] = {line["code_id"] for line in extra
                                        if line["verdict"] == "accept"}
    standing = reviewed_codes(DecisionLog(run.file("decisions.jsonl")).read())
    assert {seg: codes for (_, seg), codes in standing.items()} == sent

    # A new server on the same run shows all of it, and takes more.
    with serving(run.path, tmp_path) as again, again.client() as client:
        assert client.get("/api/decisions").json()["decisions"] == lines
        progress = client.get("/api/progress").json()
        assert progress["reviewed"] == len(standing) and progress["total"] == 10
        shown = {s["id"]: s["decision"] for s in client.get("/api/segments").json()["segments"]}
        assert {seg: set(shown[seg]["codes"]) for (_, seg) in standing} == {
            seg: codes for (_, seg), codes in standing.items()}
        assert all(shown[s["id"]] is None for s in segments if ("Ann", s["id"]) not in standing)
        more = post(client, {"segment_id": segments[1]["id"], "verdict": "accept",
                             "code": segments[1]["suggestions"][0]["code"]})
    assert log_lines(run) == lines + more


# -- several writers at once ---------------------------------------------------------------------

def _write(client: httpx.Client, bodies: list[dict[str, Any]],
           answered: list[list[dict[str, Any]]], errors: list[BaseException],
           start: threading.Barrier) -> None:
    try:
        start.wait(timeout=30)
        for body in bodies:
            answered.append(post(client, body))
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def _check_coder(client: httpx.Client, coder: str, lines: list[dict[str, Any]],
                 wanted: dict[str, set[str]], segments: dict[str, dict[str, Any]]) -> None:
    """The coder's folded decisions are what they sent; the server's API agrees with the log."""
    assert _folded(lines, coder) == wanted, coder
    assert client.get("/api/session").json()["coder"] == coder
    assert client.get("/api/decisions").json()["decisions"] == [
        line for line in lines if line["coder"] == coder]
    progress = client.get("/api/progress").json()
    assert progress["reviewed"] == len(wanted) and progress["total"] == len(segments)
    suggested: dict[str, int] = {}
    accepted: dict[str, int] = {}
    for seg, codes in wanted.items():
        for code in segments[seg]["passing"]:
            suggested[code] = suggested.get(code, 0) + 1
            accepted[code] = accepted.get(code, 0) + (code in codes)
    assert {row["code"]: (row["suggested"], row["accepted"]) for row in progress["per_code"]} \
        == {code: (n, accepted[code]) for code, n in suggested.items()}
    assert sum(s["reviewed"] for s in client.get("/api/sources").json()["sources"]) \
        == len(wanted)
    shown = {s["id"]: s["decision"] for s in client.get("/api/segments",
                                                      params={"limit": 1000}).json()["segments"]}
    assert {seg: set(d["codes"]) for seg, d in shown.items() if d is not None} == wanted
    left = client.get("/api/queue", params={"order": "document", "unreviewed": "1"}).json()
    assert set(left["segment_ids"]) == set(segments) - set(wanted)


def _folded(lines: list[dict[str, Any]], coder: str) -> dict[str, set[str]]:
    decisions = [Decision.from_dict(line) for line in lines]
    return {seg: codes for (who, seg), codes in reviewed_codes(decisions).items()
            if who == coder}


def _bodies(coder: str, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A decision on each segment: accept the first or second suggestion, reject, correct."""
    out: list[dict[str, Any]] = []
    for i, seg in enumerate(segments):
        body: dict[str, Any] = {"segment_id": seg["id"], "note": f"{coder} {i}"}
        if i % 4 == 0:
            body |= {"verdict": "accept", "code": seg["suggestions"][0]["code"]}
        elif i % 4 == 1:
            body |= {"verdict": "reject"}
        elif i % 4 == 2:
            body |= {"verdict": "correct", "codes": ["living_with_illness", "peer"]}
        else:
            body |= {"verdict": "accept", "code": seg["suggestions"][1]["code"]}
        out.append(body)
    return out


def test_serve_two_coders_and_a_second_server_write_at_once(tmp_path: Path,
                                                            fast_config: dict) -> None:
    """Ann and Bo sign in on one server (no --coder) and Cy reviews on a second server of
    the same run, all at the same time, partly on the same segments."""
    run = make_run(tmp_path / "run", fast_config, transcripts=many_transcripts(2, 20))
    with serving(run.path, tmp_path, coder=None) as shared, \
            serving(run.path, tmp_path, coder="Cy") as own:
        clients = {"Ann": shared.client("Ann"), "Bo": shared.client("Bo"), "Cy": own.client()}
        cy_on_shared = shared.client("Cy")  # to see Cy's decisions from the other server
        assert cy_on_shared.get("/api/progress").json()["reviewed"] == 0
        segments = clients["Ann"].get("/api/segments", params={"limit": 1000}).json()
        assert segments["total"] == 40
        by_id = {s["id"]: s for s in segments["segments"]}
        ordered = segments["segments"]
        plan = {"Ann": _bodies("Ann", ordered[0:20]), "Bo": _bodies("Bo", ordered[10:30]),
                "Cy": _bodies("Cy", ordered[20:40])}
        answered: dict[str, list[list[dict[str, Any]]]] = {coder: [] for coder in plan}
        errors: list[BaseException] = []
        start = threading.Barrier(len(plan))
        threads = [threading.Thread(target=_write, args=(clients[coder], plan[coder],
                                                         answered[coder], errors, start))
                   for coder in plan]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert all(len(answered[coder]) == 20 for coder in plan)

        lines = log_lines(run)
        every = [records for coder in plan for records in answered[coder]]
        assert_answered_once_and_whole(lines, every)
        assert len(lines) == sum(len(records) for records in every)  # nothing else written
        for coder in plan:
            wanted = {body["segment_id"]: expected_codes(body) for body in plan[coder]}
            _check_coder(clients[coder], coder, lines, wanted, by_id)
        # The first server also sees what the second one wrote.
        _check_coder(cy_on_shared, "Cy", lines,
                     {body["segment_id"]: expected_codes(body) for body in plan["Cy"]}, by_id)
        for client in [*clients.values(), cy_on_shared]:
            client.close()


def test_serve_and_terminal_reviews_write_at_once(tmp_path: Path, fast_config: dict) -> None:
    """While the server takes Ann's decisions, terminal reviews in this process append to the
    same log: Dee's, and Ann's own on other segments (one coder in two places)."""
    run = make_run(tmp_path / "run", fast_config, transcripts=many_transcripts(2, 20))
    data = load_review(run.path)
    terminals = {"Dee": ReviewSession(data, "Dee", order="document"),
                 "Ann": ReviewSession(data, "Ann", order="document")}
    rows = {"Dee": range(10, 30), "Ann": range(30, 40)}
    with serving(run.path, tmp_path, coder="Ann") as server, server.client() as client:
        segments = client.get("/api/segments", params={"limit": 1000}).json()["segments"]
        assert [s["id"] for s in segments] == [s.id for s in data.segments]
        by_id = {s["id"]: s for s in segments}
        browser = _bodies("Ann", segments[0:20])
        answered: dict[str, list[list[dict[str, Any]]]] = {
            "browser": [], "Dee": [], "Ann": []}
        wanted: dict[str, dict[str, set[str]]] = {"Dee": {}, "Ann": {}}
        errors: list[BaseException] = []
        start = threading.Barrier(3)

        browser_done = threading.Event()

        def terminal(coder: str) -> None:
            try:
                session = terminals[coder]
                start.wait(timeout=30)
                # Each segment over and over (the last decision counts), as fast as the log
                # takes them, for as long as the server takes the browser's decisions.
                for rep in range(12):
                    if rep >= 2 and browser_done.is_set():
                        break
                    for k, row in enumerate(rows[coder]):
                        seg = data.segments[row].id
                        session.note(row, f"{coder} {rep}")
                        if (k + rep) % 3 == 0:
                            step = session.decide(row, accept=[1])
                            wanted[coder][seg] = {by_id[seg]["suggestions"][0]["code"]}
                        elif (k + rep) % 3 == 1:
                            step = session.decide(row, reject_all=True)
                            wanted[coder][seg] = set()
                        else:
                            step = session.decide(row, accept=[2], codes=["staff"])
                            wanted[coder][seg] = {by_id[seg]["suggestions"][1]["code"],
                                                  "staff"}
                        answered[coder].append([d.to_dict() for d in step.decisions])
            except BaseException as exc:  # reported by the test
                errors.append(exc)

        def in_the_browser() -> None:
            _write(client, browser, answered["browser"], errors, start)
            browser_done.set()

        threads = [threading.Thread(target=in_the_browser),
                   threading.Thread(target=terminal, args=("Dee",)),
                   threading.Thread(target=terminal, args=("Ann",))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors

        lines = log_lines(run)
        every = [records for records_of in answered.values() for records in records_of]
        assert len(answered["browser"]) == 20
        assert len(answered["Dee"]) >= 2 * 20 and len(answered["Ann"]) >= 2 * 10
        assert_answered_once_and_whole(lines, every)
        assert len(lines) == sum(len(records) for records in every)
        assert _folded(lines, "Dee") == wanted["Dee"]
        # Ann in the browser and Ann in the terminal: the server counts both.
        ann = {body["segment_id"]: expected_codes(body) for body in browser} | wanted["Ann"]
        _check_coder(client, "Ann", lines, ann, by_id)
    fresh = ReviewSession(load_review(run.path), "Dee", order="document")
    assert {data.segments[row].id: codes for row, codes in fresh.mine.items()} == wanted["Dee"]
