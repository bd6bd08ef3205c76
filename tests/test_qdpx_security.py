"""Hostile archives: zip bombs, path traversal, absolute paths, entity expansion, XXE.

Each is refused with a clear `PrecodeError`, and nothing is written anywhere: not inside the
output folder (which is never created) and not outside it. An external DTD is neither fetched
nor needed: the network is blocked and watched while the project is read.
"""

from __future__ import annotations

import http.server
import io
import os
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import PrecodeError, UnsupportedFormatError
from pipeline.ingest.archive import Limits, SafeArchive
from pipeline.qdpx import read_qdpx
from pipeline.stages import import_qdpx
from tests.test_qdpx_support import project, write_zip

G = "8e0f1c2a-0000-4000-8000-{:012d}"
MINIMAL = project(f'<Sources><TextSource guid="{G.format(1)}" name="s">'
                  f'<PlainTextContent>Hello.</PlainTextContent></TextSource></Sources>')


def _set_sizes(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size of member `name` in its local and central headers."""
    out = bytearray(data)
    start = 0
    while (at := out.find(b"PK\x01\x02", start)) >= 0:  # central directory entries
        name_len = struct.unpack("<H", out[at + 28:at + 30])[0]
        if out[at + 46:at + 46 + name_len] == name:
            struct.pack_into("<I", out, at + 24, size)
            local = struct.unpack("<I", out[at + 42:at + 46])[0]
            struct.pack_into("<I", out, local + 22, size)
        start = at + 4
    return bytes(out)


def _refused_without_output(tmp_path: Path, archive: Path, match: str) -> None:
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(PrecodeError, match=match):
        import_qdpx(archive, tmp_path / "out" / "run", segment=False)
    assert not (tmp_path / "out").exists()
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")
                  if not p.is_relative_to(tmp_path / "out")) == before


def test_qdpx_security_zip_bomb_declared_size(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.qdpx"
    raw = write_zip(tmp_path / "tmp.zip", {"project.qde": MINIMAL}).read_bytes()
    archive.write_bytes(_set_sizes(raw, b"project.qde", 0xF0000000))
    (tmp_path / "tmp.zip").unlink()
    _refused_without_output(tmp_path, archive,
                            r"the member 'project\.qde' unpacks to 4,026,531,840 bytes")


def test_qdpx_security_zip_bomb_real_ratio(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "bomb.qdpx", {"project.qde": MINIMAL,
                                                 "sources/big.txt": b"\0" * 3_000_000})
    assert archive.stat().st_size < 20_000  # 3 MB of zeros packs into a few kB
    with pytest.raises(UnsupportedFormatError, match="zip bomb"):
        read_qdpx(archive, limits=Limits(max_total_bytes=1_000_000))


def test_qdpx_security_lying_header_is_caught_while_reading(tmp_path: Path) -> None:
    body = MINIMAL.replace("Hello.", "Hello." + " " * 2_000_000)
    raw = write_zip(tmp_path / "tmp.zip", {"project.qde": body}).read_bytes()
    archive = tmp_path / "liar.qdpx"
    archive.write_bytes(_set_sizes(raw, b"project.qde", 100))  # claims 100 bytes
    with SafeArchive(archive, label=archive) as safe, \
            pytest.raises(UnsupportedFormatError,
                          match=r"the member 'project\.qde' cannot be unpacked \(Bad CRC-32"):
        safe.read("project.qde")


def test_qdpx_security_too_many_members(tmp_path: Path) -> None:
    members: dict[str, bytes | str] = {f"sources/{i}.txt": "x" for i in range(30)}
    archive = write_zip(tmp_path / "many.qdpx", {"project.qde": MINIMAL, **members})
    with pytest.raises(UnsupportedFormatError, match="31 members"):
        read_qdpx(archive, limits=Limits(max_members=20))


@pytest.mark.parametrize("name", ["../evil.txt", "sources/../../evil.txt", "..\\evil.txt"])
def test_qdpx_security_path_traversal(tmp_path: Path, name: str) -> None:
    archive = write_zip(tmp_path / "climb.qdpx", {"project.qde": MINIMAL, name: "pwned"})
    _refused_without_output(tmp_path, archive, r"climbs out of the archive with '\.\.'")
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.parametrize("name", ["/tmp/precode-evil.txt", "C:/evil.txt", "\\evil.txt"])
def test_qdpx_security_absolute_path(tmp_path: Path, name: str) -> None:
    archive = write_zip(tmp_path / "abs.qdpx", {"project.qde": MINIMAL, name: "pwned"})
    _refused_without_output(tmp_path, archive, "absolute path")


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE Project [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Sources>
<TextSource guid="8e0f1c2a-0000-4000-8000-000000000001" name="s">
<PlainTextContent>&secret;</PlainTextContent></TextSource></Sources></Project>
"""

# What an external DTD could do if it were loaded: read a local file into a parameter entity,
# and give elements attributes the document does not have.
DTD = b"""<!ENTITY % leak SYSTEM "file:///etc/passwd">
<!ATTLIST TextSource plainTextPath CDATA "file:///etc/passwd">
"""


def test_qdpx_security_billion_laughs(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "laughs.qdpx", {"project.qde": BILLION_LAUGHS})
    _refused_without_output(tmp_path, archive, "declares entities")


def test_qdpx_security_external_entity(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "xxe.qdpx", {"project.qde": EXTERNAL_ENTITY})
    _refused_without_output(tmp_path, archive, "declares entities")


def _block_sockets(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Make every outgoing connection fail, and return the list of addresses tried."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("the test blocks the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@contextmanager
def _dtd_over_http() -> Iterator[tuple[str, list[object]]]:
    """A DTD served on 127.0.0.1, and the list of the connections the server accepted."""
    accepted: list[object] = []

    class Server(http.server.ThreadingHTTPServer):
        def verify_request(self, request: object, client_address: object) -> bool:
            accepted.append(client_address)
            return True

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/xml-dtd")
            self.end_headers()
            self.wfile.write(DTD)

        def log_message(self, *args: object) -> None:
            pass

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/evil.dtd", accepted
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def _dtd_in_a_pipe(folder: Path) -> Iterator[tuple[str, list[object]]]:
    """A file:// DTD that tells when it is opened: a named pipe, and a thread that answers
    (with the DTD) whoever opens it for reading. Opening a pipe for reading waits for a
    writer, so a reader cannot slip by unnoticed, however it opens files."""
    pipe = folder / "evil.dtd"
    os.mkfifo(pipe)
    opened: list[object] = []
    stop = threading.Event()

    def answer() -> None:
        reader = False
        while not stop.is_set():
            try:  # succeeds only while somebody has the pipe open for reading
                fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                reader = False
            else:
                try:
                    if not reader:  # a new reader: count it once, and give it the DTD
                        opened.append(pipe)
                        os.write(fd, DTD)
                    reader = True
                finally:
                    os.close(fd)
            time.sleep(0.002)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield pipe.as_uri(), opened
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("where", [
    "http", pytest.param("file", marks=pytest.mark.skipif(not hasattr(os, "mkfifo"),
                                                          reason="needs named pipes"))])
def test_qdpx_security_external_dtd_is_never_fetched(tmp_path: Path, where: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A DOCTYPE naming an external DTD: the DTD is never fetched (no connection, no open),
    and the project reads as if the DOCTYPE were not there: expat never loads an external DTD
    subset, so nothing it declares takes effect (entities declared inside the document itself
    are refused, see above)."""
    serve = _dtd_over_http() if where == "http" else _dtd_in_a_pipe(tmp_path)
    with serve as (system_id, fetched):
        document = MINIMAL.replace("?>\n", f'?>\n<!DOCTYPE Project SYSTEM "{system_id}">\n', 1)
        assert "<!DOCTYPE" in document
        archive = write_zip(tmp_path / "dtd.qdpx", {"project.qde": document})
        attempts = _block_sockets(monkeypatch)
        found = read_qdpx(archive)
    assert fetched == []
    assert attempts == []
    assert [(s.name, s.text) for s in found.sources] == [("s", "Hello.")]
    assert found.name == "hand made" and found.warnings == []


def test_qdpx_security_paths_outside_the_archive_are_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me", encoding="utf-8")
    body = (f'<Sources><TextSource guid="{G.format(1)}" name="a" '
            f'plainTextPath="file://{secret}" /><TextSource guid="{G.format(2)}" name="b" '
            f'plainTextPath="{secret}" /></Sources>')
    found = read_qdpx(write_zip(tmp_path / "outside.qdpx", {"project.qde": project(body)}))
    assert [s.text for s in found.sources] == ["", ""]
    assert found.warnings == ["2 source path(s) point outside the archive (precode reads only "
                              "what is inside it)",
                              "2 source(s) have no text (neither plain text nor a readable "
                              ".docx); they are kept, empty"]


def test_qdpx_security_docx_bomb_inside_the_project(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", "<w/>")
    docx = _set_sizes(inner.getvalue(), b"word/document.xml", 0xF0000000)
    body = (f'<Sources><TextSource guid="{G.format(1)}" name="w" '
            f'richTextPath="internal://w.docx" /></Sources>')
    archive = write_zip(tmp_path / "docx.qdpx", {"project.qde": project(body),
                                                 "sources/w.docx": docx})
    with pytest.raises(UnsupportedFormatError,
                       match=r"w\.docx: refused: the member .word/document\.xml. unpacks"):
        read_qdpx(archive)


def test_qdpx_security_cli_prints_a_clear_error(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "climb.qdpx", {"project.qde": MINIMAL, "../x.txt": "x"})
    result = CliRunner().invoke(app, ["import", str(archive), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "refused" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
