"""`precode serve`: load a run, start the review server, print the address with its token."""

from __future__ import annotations

import socket
import webbrowser
from collections.abc import Callable
from pathlib import Path

import uvicorn

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.review.server.app import create_app
from pipeline.review.server.security import allowed_hosts, new_token
from pipeline.review.server.state import ReviewServerState
from pipeline.review.session import load_review

LOCAL = ("127.0.0.1", "localhost", "::1")


def serve_run(run: str | Path, *, coder: str | None = None, host: str = "127.0.0.1",
              port: int = 8765, open_browser: bool = False, config: Config | None = None,
              head: str | Path | None = None, codebook: str | Path | None = None,
              retrain_every: int = 0, blind: bool = True,
              progress: Callable[[int, int], None] | None = None,
              announce: Callable[[str], None] = print,
              warn: Callable[[str], None] = print) -> None:
    """Serve `run` for review in a browser until Ctrl-C. `announce` gets the start address."""
    if not 0 < port < 65536:
        raise ConfigError(f"--port {port} is not a port", hint="use 1024-65535, e.g. 8765")
    if coder is not None and not coder.strip():
        raise ConfigError("the coder name is empty", hint="name yourself: --coder NAME")
    data = load_review(run, config, codebook=codebook, head=head, progress=progress)
    state = ReviewServerState(data, blind=blind, retrain_every=retrain_every)
    if coder is not None:
        state.session(coder.strip())  # checks the log before the first request
    token = new_token()
    app = create_app(state, token, allowed_hosts(host, port),
                     coder.strip() if coder else None)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/?token={token}"
    if host not in LOCAL:
        warn(f"--host {host} lets other machines on the network reach the review server; "
             "anyone with the address (it holds the token) can read the transcripts.")
    listening = _listen(host, port)  # before the address is shown: it works once printed
    announce(url)
    if open_browser:
        webbrowser.open(url)
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listening])
    finally:
        listening.close()
        state.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, or a clear error when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror})",
                          hint="another program (or another precode serve) uses it: choose "
                               "another --port") from exc
    sock.listen(128)
    return sock
