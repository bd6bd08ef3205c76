"""A quantized ONNX backend: the configured sentence-transformers model, int8, onnxruntime.

The transformer is exported once from the local model files (`precode model prepare`, or on
first use) with `torch.onnx.export`, then its matrix multiplications are quantized to int8:
weights per channel, activations per token (`pipeline.embed.quantize`), so a text's vector
does not depend on the texts it is batched with. Pooling and normalization follow the
model's own sentence-transformers config (`modules.json`, `1_Pooling/config.json`), and the
tokenizer is the model's own, so the vectors approximate the fp32 model's closely (checked
by a test: mean cosine >= 0.98). Nothing is downloaded.

Needs onnxruntime and onnx, which precode installs (they are the default backend's).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.cores import usable_cores
from pipeline.embed.base import Embedder, normalize_rows
from pipeline.embed.folders import replace_folder
from pipeline.embed.models import (
    display_name,
    model_digest,
    model_key,
    model_languages,
    model_prefix,
    resolve_model_path,
)
from pipeline.embed.offline import ensure_offline
from pipeline.embed.quantize import quantize
from pipeline.errors import MissingDependencyError, ModelError

ATTENTION_TOKENS = 128  # batches of longer texts get fewer rows (see encode)
EXPORT_VERSION = 5  # bump when the export recipe changes: old exports are then rebuilt


def export_folder(root: Path, model_digest: str) -> Path:
    """Where the int8 export of the model folder with this digest lives."""
    return root / f"onnx-int8-v{EXPORT_VERSION}-{model_digest}"


def _require_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingDependencyError(
            "the onnx-int8 backend needs onnxruntime and onnx",
            hint="pip install -c constraints.txt 'precode[onnx]' (or use embed.backend "
                 "sentence-transformers)") from exc
    return onnxruntime


class OnnxInt8Embedder(Embedder):
    def __init__(self, model: str, export_root: str | Path, batch_size: int = 64,
                 max_seq_length: int | None = None, threads: int | None = None,
                 prefix: str | None = None) -> None:
        self.model = model
        self.export_root = Path(export_root)
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.threads = threads
        path = resolve_model_path(model, self.export_root)
        if not isinstance(path, Path):
            raise ModelError(f"the onnx-int8 backend needs a local model folder, not {model!r}",
                             hint="set embed.model to a folder with the sentence-transformers "
                                  "model files, or use the packaged default")
        self._path: Path = path
        self._digest = model_digest(self._path)
        self.prefix = model_prefix(self._path) if prefix is None else prefix
        self._configs: dict[str, Any] = {}
        self._session: Any = None
        self._tokenizer: Any = None
        self.languages = model_languages(model)
        self.model_key = model_key(model)

    # -- identity ---------------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        name = display_name(self.model, self._path)
        # the prefix is named only when there is one: prefix-less fingerprints stay as they were
        prefix = f":prefix={self.prefix!r}" if self.prefix else ""
        return f"onnx-int8:v{EXPORT_VERSION}:{name}:{self._digest}:{self._seq_length()}{prefix}"

    @property
    def dimension(self) -> int:
        return int(self._pooling()["word_embedding_dimension"])

    @property
    def export_dir(self) -> Path:
        return export_folder(self.export_root, self._digest)

    # -- the model's own settings -------------------------------------------------------------
    def _json(self, relative: str) -> Any:
        """A config file of the model folder ({} if absent), read once: encode asks often."""
        if relative not in self._configs:
            path = self._path / relative
            self._configs[relative] = json.loads(path.read_text(encoding="utf-8")) \
                if path.exists() else {}
        return self._configs[relative]

    def _pooling(self) -> dict[str, Any]:
        modules = self._json("modules.json") or []
        folder = next((m["path"] for m in modules if m["type"].endswith("Pooling")), "1_Pooling")
        pooling: dict[str, Any] = self._json(f"{folder}/config.json")
        if not pooling:
            raise ModelError("the model folder has no pooling config", path=self._path,
                             hint="the onnx-int8 backend needs a sentence-transformers model")
        return pooling

    def _normalizes(self) -> bool:
        modules = self._json("modules.json")
        return any(m["type"].endswith("Normalize") for m in modules) if isinstance(modules, list) \
            else True

    def _seq_length(self) -> int:
        own = int(self._json("sentence_bert_config.json").get("max_seq_length", 256))
        limit = int(self._json("config.json").get("max_position_embeddings", own))
        return min(int(self.max_seq_length), limit) if self.max_seq_length else own

    # -- export -------------------------------------------------------------------------------
    def prepare(self, force: bool = False) -> Path:
        """Export and quantize the model once; later calls reuse the files."""
        target = self.export_dir / "model.int8.onnx"
        if target.exists() and not force:
            return target
        _require_onnxruntime()
        ensure_offline()
        import torch
        from sentence_transformers import SentenceTransformer

        # Eager attention exports as plain MatMul/Softmax, which onnxruntime runs faster than
        # the masked scaled-dot-product graph the default (sdpa) attention exports to.
        st = SentenceTransformer(str(self._path), device="cpu", local_files_only=True,
                                 model_kwargs={"attn_implementation": "eager"})
        first: Any = st[0]
        transformer = first.auto_model.eval()
        tokenizer = first.tokenizer
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                 if n in tokenizer.model_input_names]

        class _Hidden(torch.nn.Module):
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, *inputs: Any) -> Any:
                return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

        sample = tokenizer(["a short sentence", "and a somewhat longer second sentence"],
                           padding=True, return_tensors="pt")
        self.export_dir.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".onnx-", dir=self.export_dir.parent))
        try:
            fp32 = work / "model.onnx"
            axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer notes about the model's Python code
                torch.onnx.export(_Hidden(transformer), tuple(sample[n] for n in names),
                                  str(fp32), input_names=names,
                                  output_names=["last_hidden_state"], dynamic_axes=axes,
                                  opset_version=17, dynamo=False)
            per_token = quantize(fp32, work / "model.int8.onnx")
            fp32.unlink()
            tokenizer.save_pretrained(str(work / "tokenizer"))
            (work / "info.json").write_text(json.dumps({
                "source": str(self._path), "digest": self._digest, "inputs": names,
                "export_version": EXPORT_VERSION, "torch": torch.__version__,
                "per_token_quantized_inputs": per_token,
            }, indent=2) + "\n")
            if target.exists() and not force:  # another process finished first: keep its
                shutil.rmtree(work)
            else:
                replace_folder(work, self.export_dir)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return target

    # -- encoding -----------------------------------------------------------------------------
    def _load(self) -> None:
        if self._session is not None:
            return
        ort = _require_onnxruntime()
        model_file = self.prepare()
        # The export's tokenizer.json through `tokenizers` itself: importing transformers
        # (and with it torch) would cost a run seconds and hundreds of MB for nothing.
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or usable_cores()
        # Input shapes change with every batch: a memory pattern per shape only adds memory.
        options.enable_mem_pattern = False
        self._session = ort.InferenceSession(str(model_file), options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = json.loads((self.export_dir / "info.json").read_text())["inputs"]
        folder = self.export_dir / "tokenizer"
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self._seq_length())
        pad = json.loads((folder / "tokenizer_config.json").read_text()).get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        self._pad_id = (self._tokenizer.token_to_id(pad) if pad else None) or 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self._load()
        pooling = self._pooling()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches sorted by token length, and capped so that rows * tokens^2 (attention's
        # memory) stays under what batch_size rows of ATTENTION_TOKENS tokens need: onnxruntime
        # keeps its arena at the largest batch it ever ran, so one batch of long texts would
        # otherwise set the process' memory for good (and a larger corpus meets longer ones).
        encodings = self._tokenizer.encode_batch([self.prefix + text for text in texts])
        lengths = [len(e.ids) for e in encodings]
        order = np.argsort(lengths, kind="stable")
        budget = self.batch_size * ATTENTION_TOKENS ** 2
        begin = 0
        while begin < len(texts):
            longest = lengths[order[min(begin + self.batch_size, len(texts)) - 1]]
            rows = max(1, min(self.batch_size, budget // max(longest, 1) ** 2))
            idx = order[begin:begin + rows]
            begin += rows
            width = max(lengths[i] for i in idx)
            ids = np.full((len(idx), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                ids[row, :lengths[i]] = encodings[i].ids
                mask[row, :lengths[i]] = 1
            batch = {"input_ids": ids, "attention_mask": mask,
                     "token_type_ids": np.zeros_like(ids)}  # one sentence: all type 0
            hidden = self._session.run(None, {n: batch[n] for n in self._inputs})[0]
            out[idx] = _pool(hidden, mask, pooling)
        return normalize_rows(out) if self._normalizes() else out


def _pool(hidden: np.ndarray, mask: np.ndarray, config: dict[str, Any]) -> np.ndarray:
    """Pooling as sentence-transformers' Pooling module does it, for the common modes."""
    weights = mask[..., None].astype(np.float32)
    if config.get("pooling_mode_cls_token"):
        return hidden[:, 0]
    if config.get("pooling_mode_max_tokens"):
        return np.where(weights > 0, hidden, -1e9).max(axis=1)
    summed = (hidden * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), 1e-9)
    if config.get("pooling_mode_mean_sqrt_len_tokens"):
        return summed / np.sqrt(counts)
    return summed / counts
