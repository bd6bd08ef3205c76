"""Every failure a user can cause, in one place.

Each error says what is wrong, where (file, line, offset) and how to fix it. The CLI prints
the message without a traceback and exits with status 2 (`PrecodeError.exit_code`).
Subclasses also derive from the built-in exception they refine, following scikit-learn
(`NotFittedError(ValueError, AttributeError)`), so library users can catch either.
"""

from __future__ import annotations

from pathlib import Path


class PrecodeError(Exception):
    """Base class: a problem with the user's input or setup, not a bug in precode."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | Path | None = None,
                 line: int | None = None, hint: str | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.hint = hint
        super().__init__(self.render())
        self.path = str(path) if path is not None else None  # ImportError.__init__ resets it

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from the keyword arguments, so an error raised in a worker process (`--jobs`)
        # reaches the CLI with its path, line and hint intact.
        return (_rebuild, (type(self), self.message, self.path, self.line, self.hint),
                dict(self.__dict__))

    def render(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}, line {self.line}"
            where += ": "
        text = f"{where}{self.message}"
        if self.hint:
            text += f"\n  How to fix: {self.hint}"
        return text


def _rebuild(cls: type[PrecodeError], message: str, path: str | None, line: int | None,
             hint: str | None) -> PrecodeError:
    return cls(message, path=path, line=line, hint=hint)


class InputNotFoundError(PrecodeError, FileNotFoundError):
    """A path given by the user does not exist."""


class UnsupportedFormatError(PrecodeError, ValueError):
    """A file whose extension or content precode cannot read."""


class EmptyInputError(PrecodeError, ValueError):
    """A file or folder with nothing to work on."""


class DecodingError(PrecodeError, UnicodeError):
    """Bytes that are not text in any encoding precode accepts."""


class MalformedTranscriptError(PrecodeError, ValueError):
    """A transcript whose structure (VTT/SRT cues, docx package) is broken."""


class CodebookError(PrecodeError, ValueError):
    """A codebook that fails validation (duplicate ids, missing fields, unknown keys)."""


class ConfigError(PrecodeError, ValueError):
    """A configuration file or override with unknown keys or bad values."""


class RunFolderError(PrecodeError, ValueError):
    """A run folder that is missing a stage's output, or was made by an incompatible version."""


class ShardError(PrecodeError, ValueError):
    """Shard runs that cannot be merged: a part missing or repeated, or parts that do not
    belong together (another corpus, other settings, codebook or model)."""


class MetadataError(PrecodeError, ValueError):
    """A participants file that cannot be matched to the sources."""


class AgreementInputError(PrecodeError, ValueError):
    """Data given to an agreement coefficient that it cannot be computed on."""


class GoldCodingError(PrecodeError, ValueError):
    """A gold coding row that names an unknown code or source, or has bad offsets."""


class ModelError(PrecodeError, ValueError):
    """An embedding model or trained head that cannot be loaded or does not match the run."""


class MissingDependencyError(PrecodeError, ImportError):
    """An optional dependency is not installed; the message gives the install command."""
