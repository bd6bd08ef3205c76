"""A zip reader for archives that come from someone else's machine (`.qdpx`, `.docx`).

Nothing is ever extracted to disk: members are read into memory, by name, on request.
Before any member is read the whole directory is checked: too many members, a total
uncompressed size over the cap, a name that is absolute or climbs out with `..`, a duplicate
name or an encrypted member make the archive refused with a clear error. Reading a member
stops at its declared size and at the cap, so a header that lies about sizes cannot make
precode inflate more than the cap either. Members nobody asks for are simply ignored.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.errors import UnsupportedFormatError

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Limits:
    """How much a foreign archive may hold. The defaults fit any interview project."""

    max_members: int = 10_000
    max_total_bytes: int = 512 * 1024 * 1024  # uncompressed, all members together
    max_member_bytes: int = 256 * 1024 * 1024


DEFAULT_LIMITS = Limits()


class SafeArchive:
    """The checked directory of a zip archive, and its members read on demand."""

    def __init__(self, data: bytes | Path, *, label: str | Path,
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.label = str(label)
        self.limits = limits
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise UnsupportedFormatError(
                f"not a zip archive ({exc})", path=self.label,
                hint="a .qdpx project is a zip file; export it again from your QDA tool") from exc
        try:
            self._members = self._check()
        except BaseException:
            self._zip.close()
            raise
        self._lower = {name.lower(): name for name in self._members}

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def _refuse(self, message: str) -> UnsupportedFormatError:
        return UnsupportedFormatError(
            f"refused: {message}", path=self.label,
            hint="this archive is damaged or was built to attack the reader; export the "
                 "project again from the QDA tool that made it")

    def _check(self) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > self.limits.max_members:
            raise self._refuse(f"the archive has {len(infos)} members "
                               f"(at most {self.limits.max_members} are accepted)")
        members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            if "\x00" in name or name.startswith(("/", "\\")) or _DRIVE.match(name):
                raise self._refuse(f"the member {name!r} has an absolute path")
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if ".." in parts:
                raise self._refuse(f"the member {name!r} climbs out of the archive with '..'")
            if info.flag_bits & 0x1:
                raise self._refuse(f"the member {name!r} is encrypted")
            if info.file_size > self.limits.max_member_bytes:
                raise self._refuse(f"the member {name!r} unpacks to {info.file_size:,} bytes "
                                   f"(at most {self.limits.max_member_bytes:,} per member)")
            total += info.file_size
            if total > self.limits.max_total_bytes:
                raise self._refuse(f"the members unpack to more than "
                                   f"{self.limits.max_total_bytes:,} bytes (a zip bomb?)")
            if info.is_dir():
                continue
            key = "/".join(parts)
            if key in members:
                raise self._refuse(f"the member {name!r} appears twice")
            members[key] = info
        return members

    def names(self) -> list[str]:
        """Member names (files only), `/`-separated, in archive order."""
        return list(self._members)

    def find(self, name: str) -> str | None:
        """The member called `name` (exactly, else ignoring case), or None."""
        key = "/".join(PurePosixPath(name.replace("\\", "/")).parts)
        if key in self._members:
            return key
        return self._lower.get(key.lower())

    def read(self, name: str) -> bytes:
        """The bytes of one member, never more than its declared size or the caps."""
        info = self._members[name]
        cap = min(info.file_size, self.limits.max_member_bytes)
        try:
            with self._zip.open(info) as fh:
                data = fh.read(cap + 1)
        except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError,
                zlib.error) as exc:
            raise self._refuse(f"the member {name!r} cannot be unpacked ({exc})") from exc
        if len(data) > cap:
            raise self._refuse(f"the member {name!r} unpacks to more than it declares")
        return data
