"""`precode serve`'s API with Starlette's test client: decisions, undo, errors and the guard."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pipeline.review.server import ReviewServerState, create_app
from pipeline.review.session import load_review
from pipeline.run_folder import RunFolder
from pipeline.run_folder.decisions import DecisionLog, fold_decisions
from tests.test_review_support import make_run, segment_ids

TOKEN = "t0ken"
HOSTS = {"testserver", "127.0.0.1:8765"}


@pytest.fixture
def run(tmp_path: Path, fast_config: dict) -> RunFolder:
    return make_run(tmp_path / "run", fast_config)


def _client(run: RunFolder, coder: str | None = "Ann", blind: bool = True,
            retrain_every: int = 0) -> TestClient:
    state = ReviewServerState(load_review(run.path), blind=blind, retrain_every=retrain_every)
    client = TestClient(create_app(state, TOKEN, HOSTS, coder))
    client.headers["Authorization"] = f"token {TOKEN}"
    return client


def _log(run: RunFolder) -> list[dict]:
    path = run.file("decisions.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_serve_api_lists_sources_segments_and_the_codebook(run: RunFolder) -> None:
    client = _client(run)
    session = client.get("/api/session").json()
    assert session["coder"] == "Ann" and session["blind"] is True
    assert session["threshold"] == pytest.approx(0.25)
    sources = client.get("/api/sources").json()["sources"]
    assert [(s["id"], s["segments"], s["reviewed"]) for s in sources] == [("s1", 5, 0),
                                                                         ("s2", 5, 0)]
    source = client.get("/api/source", params={"id": "s1"}).json()
    page = client.get("/api/segments", params={"source": "s1", "limit": 2}).json()
    assert page["total"] == 5 and len(page["segments"]) == 2
    first = page["segments"][0]
    assert source["text"][first["start"]:first["end"]] == first["text"]
    assert [s["key"] for s in first["suggestions"]] == [1, 2, 3]
    assert first["decision"] is None and first["others"] == []
    themes = client.get("/api/codebook").json()["themes"]
    assert {c["id"] for t in themes for c in t["codes"]} == {"hope", "living_with_illness",
                                                             "peer", "staff"}
    assert all(t["color"].startswith("#") for t in themes)


def test_serve_api_decisions_land_in_the_log_and_undo_retracts(run: RunFolder) -> None:
    client = _client(run)
    seg = segment_ids()[("s1", 0)]
    shown = client.get("/api/segments", params={"source": "s1"}).json()["segments"][0]
    assert shown["id"] == seg
    answer = client.post("/api/decisions", json={"segment_id": seg, "verdict": "accept",
                                                 "code": "hope", "note": "clear"})
    assert answer.status_code == 201
    body = answer.json()
    assert body["segment"]["decision"]["codes"] == ["hope"]
    verdicts = {d["code_id"]: d["verdict"] for d in body["decisions"]}
    assert verdicts["hope"] == "accept" and all(
        v == "reject" for c, v in verdicts.items() if c != "hope")
    assert all(d["note"] == "clear" and d["coder"] == "Ann" for d in body["decisions"])
    assert _log(run) == body["decisions"]  # what the API answered is what was stored

    other = segment_ids()[("s2", 3)]
    assert client.post("/api/decisions", json={"segment_id": other,
                                               "verdict": "reject"}).status_code == 201
    assert client.get("/api/progress").json()["reviewed"] == 2
    undone = client.post("/api/undo", json={}).json()
    assert undone["segment_id"] == other
    assert {d["verdict"] for d in undone["decisions"]} == {"retract"}
    standing = fold_decisions(DecisionLog(run.file("decisions.jsonl")).read())
    assert {d.segment_id for d in standing} == {seg}  # append-only: retracted, not erased
    assert len(client.get("/api/decisions").json()["decisions"]) == len(_log(run))
    queue = client.get("/api/queue", params={"order": "document", "unreviewed": "1"}).json()
    assert seg not in queue["segment_ids"] and other in queue["segment_ids"]


def test_serve_api_correct_picks_a_code_that_was_not_suggested(run: RunFolder) -> None:
    client = _client(run)
    seg = client.get("/api/segments", params={"source": "s1"}).json()["segments"][2]
    suggested = {s["code"] for s in seg["suggestions"]}
    extra = next(c for c in ("hope", "living_with_illness", "peer", "staff")
                 if c not in suggested)
    body = client.post("/api/decisions", json={"segment_id": seg["id"], "verdict": "correct",
                                               "code": extra}).json()
    assert {d["code_id"]: d["verdict"] for d in body["decisions"]}[extra] == "relabel"
    assert body["segment"]["decision"]["codes"] == [extra]


@pytest.mark.parametrize(("payload", "message"), [
    ({"segment_id": "nope:0-1", "verdict": "accept", "code": "hope"}, "no segment 'nope:0-1'"),
    ({"verdict": "accept", "code": "gardening"}, "'gardening' is not a code"),
    ({"verdict": "accept"}, "accept needs a code"),
    ({"verdict": "maybe", "code": "hope"}, "unknown verdict 'maybe'"),
])
def test_serve_api_bad_decisions_are_400_and_write_nothing(run: RunFolder, payload: dict,
                                                           message: str) -> None:
    client = _client(run)
    payload = {"segment_id": segment_ids()[("s1", 0)], **payload}
    answer = client.post("/api/decisions", json=payload)
    assert answer.status_code == 400
    assert message in answer.json()["error"] and answer.json()["hint"]
    assert _log(run) == []


def test_serve_api_without_the_token_is_401_and_the_start_url_sets_a_cookie(
        run: RunFolder) -> None:
    client = _client(run)
    del client.headers["Authorization"]
    assert client.get("/api/sources").status_code == 401
    assert client.get("/").status_code == 401
    assert client.get("/?token=wrong").status_code == 401
    start = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert start.status_code == 303 and start.headers["location"] == "/"
    assert "httponly" in start.headers["set-cookie"].lower()
    assert "samesite=strict" in start.headers["set-cookie"].lower()
    assert client.get("/api/sources").status_code == 200  # the cookie now
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN


def test_serve_api_refuses_other_hosts_cross_origin_posts_and_form_posts(
        run: RunFolder) -> None:
    client = _client(run)
    seg = segment_ids()[("s1", 0)]
    decision = {"segment_id": seg, "verdict": "reject"}
    assert client.get("/api/sources", headers={"Host": "evil.example"}).status_code == 403
    assert client.post("/api/decisions", json=decision,
                       headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post("/api/decisions", data={"segment_id": seg, "verdict": "reject"}
                       ).status_code == 415
    assert _log(run) == []
    assert client.post("/api/decisions", json=decision,
                       headers={"Origin": "http://127.0.0.1:8765"}).status_code == 201


def test_serve_api_no_request_reaches_files_outside_the_page(run: RunFolder) -> None:
    client = _client(run)
    for path in ("/static/../../manifest.json", "/static/%2e%2e/app.js", "/decisions.jsonl",
                 "/static/index.html/../../../etc/passwd"):
        assert client.get(path).status_code == 404, path
    assert client.get("/api/source", params={"id": "../manifest.json"}).status_code == 400


def test_serve_api_sign_in_when_no_coder_was_given(run: RunFolder) -> None:
    client = _client(run, coder=None)
    assert client.get("/api/session").json()["coder"] is None
    assert "sign in first" in client.get("/api/sources").json()["error"]
    assert client.post("/api/session", json={"coder": "Bo"}).json() == {"coder": "Bo"}
    assert client.get("/api/session").json()["coder"] == "Bo"
    seg = segment_ids()[("s2", 0)]
    client.post("/api/decisions", json={"segment_id": seg, "verdict": "accept", "code": "peer"})
    assert {d["coder"] for d in _log(run)} == {"Bo"}


def test_serve_api_sees_what_another_writer_appended(run: RunFolder) -> None:
    """A terminal review (another process) appends to the same log: the server reads it."""
    from pipeline.review.session import ReviewSession

    client = _client(run)
    assert client.get("/api/progress").json()["reviewed"] == 0
    terminal = ReviewSession(load_review(run.path), "Ann", order="document")
    terminal.decide(terminal.current() or 0, accept=[1])
    assert client.get("/api/progress").json()["reviewed"] == 1
    decided = [s for s in client.get("/api/segments").json()["segments"] if s["decision"]]
    assert len(decided) == 1


def test_serve_api_blind_hides_other_coders_unless_asked(run: RunFolder) -> None:
    seg = segment_ids()[("s1", 1)]
    _client(run, coder="Ann").post("/api/decisions", json={"segment_id": seg,
                                                           "verdict": "accept", "code": "peer"})
    blind = _client(run, coder="Bo").get("/api/segments", params={"source": "s1"}).json()
    assert all(s["others"] == [] for s in blind["segments"])
    seen = _client(run, coder="Bo", blind=False).get("/api/segments",
                                                     params={"source": "s1"}).json()
    assert any(o["coder"] == "Ann" for s in seen["segments"] for o in s["others"])


def test_serve_api_progress_counts_acceptance_and_kappa(run: RunFolder) -> None:
    client = _client(run)
    segments = client.get("/api/segments").json()["segments"]
    for seg in segments[:4]:  # accept whatever was suggested first
        client.post("/api/decisions", json={"segment_id": seg["id"], "verdict": "accept",
                                            "code": seg["suggestions"][0]["code"]})
    progress = client.get("/api/progress").json()
    assert progress["reviewed"] == 4 and progress["total"] == 10
    assert all(0.0 <= row["rate"] <= 1.0 for row in progress["per_code"])
    assert progress["kappa"] is None or -1.0 <= progress["kappa"] <= 1.0
    assert "kappa" in progress["kappa_note"]


def test_serve_cli_prints_the_address_and_warns_when_the_network_is_let_in(
        run: RunFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.review.server.security import allowed_hosts

    started: list[tuple[str, int]] = []
    monkeypatch.setattr("pipeline.review.server.serve.uvicorn.Server.run",
                        lambda self, sockets: started.append(sockets[0].getsockname()[:2]))
    result = CliRunner().invoke(app, ["serve", str(run.path), "--coder", "Ann", "--port", "8799"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8799/?token=" in result.output and "Warning" not in result.output
    assert started == [("127.0.0.1", 8799)]  # listening before the address was printed
    result = CliRunner().invoke(app, ["serve", str(run.path), "--host", "0.0.0.0"])
    assert result.exit_code == 0 and "Warning" in result.output
    assert "other machines on the network" in " ".join(result.output.split())
    assert allowed_hosts("0.0.0.0", 8765) is None  # reached by names this machine cannot know
    assert "localhost:8765" in (allowed_hosts("127.0.0.1", 8765) or set())
    bad = CliRunner().invoke(app, ["serve", str(run.path), "--port", "0"])
    assert bad.exit_code == 2 and "--port 0 is not a port" in bad.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        busy = CliRunner().invoke(app, ["serve", str(run.path), "--coder", "A", "--port", port])
    assert busy.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in busy.output
    assert "choose another --port" in " ".join(busy.output.split())


def test_serve_api_refits_in_the_background_and_rescores_what_is_left(run: RunFolder) -> None:
    client = _client(run, retrain_every=2)
    before = {s["id"]: s["suggestions"] for s in client.get("/api/segments").json()["segments"]}
    truth = {segment_ids()[key]: codes for key, codes in
             [(("s1", 0), ["hope"]), (("s1", 1), ["peer"])]}
    for seg, codes in truth.items():
        client.post("/api/decisions", json={"segment_id": seg, "verdict": "correct",
                                            "codes": codes})
    for _ in range(100):  # the refit runs in a thread; the next request takes it in
        method = client.get("/api/session").json()["method"]
        if "refit on 2 decisions" in method:
            break
        time.sleep(0.05)
    assert "refit on 2 decisions" in method
    after = {s["id"]: s["suggestions"] for s in client.get("/api/segments").json()["segments"]}
    left = [s for s in after if s not in truth]
    assert any([x["score"] for x in after[s]] != [x["score"] for x in before[s]] for s in left)
