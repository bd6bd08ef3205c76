"""A supervised head on the embeddings, trained from confirmed codings (SetFit's shape).

One logistic regression per code (one-vs-rest, class-balanced, so a segment can carry several
codes), fitted on the context vectors of gold-coded segments plus the codebook's examples.
Its decision values are then Platt-calibrated on out-of-fold predictions (folds grouped by
source), so a score means roughly the share of such suggestions that are right.

Saved as `head.npz` (arrays only, loaded with `allow_pickle=False`: loading runs no code) and
`head.json` (versions, embedder fingerprint, codebook, settings, cross-validated quality).
A head refuses to load with another embedder or a codebook with other codes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.embed.base import Embedder
from pipeline.errors import InputNotFoundError, ModelError
from pipeline.records import Codebook, Evidence
from pipeline.run_folder import atomic_write, package_versions

HEAD_FORMAT = 1


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def codebook_signature(code_ids: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join(code_ids).encode()).hexdigest()[:16]


class TrainedHead:
    """scikit-learn style estimator over embedding vectors; learned state ends in `_`."""

    def __init__(self, C: float = 1.0, folds: int = 5, random_state: int = 0) -> None:
        self.C = C
        self.folds = folds
        self.random_state = random_state

    def fit(self, X: np.ndarray, Y: np.ndarray, code_ids: Sequence[str],
            groups: Sequence[str] | None = None, extra_X: np.ndarray | None = None,
            extra_Y: np.ndarray | None = None) -> TrainedHead:
        """X: (n, d) vectors; Y: (n, k) 0/1 labels; extra_*: codebook examples (always used)."""
        if X.shape[0] != Y.shape[0] or Y.shape[1] != len(code_ids):
            raise ModelError("training vectors and labels do not match",
                             hint="this is a bug; please report it")
        self.code_ids_ = list(code_ids)
        self.coef_, self.intercept_ = self._fit_lr(X, Y, extra_X, extra_Y)
        # Calibrate on out-of-fold decision values, folds grouped by source.
        decisions, truth = self._out_of_fold(X, Y, groups, extra_X, extra_Y)
        self.calibration_ = self._platt(decisions, truth)
        # Out-of-fold predictions and their truth (both empty when there is too little data).
        self.oof_proba_ = _sigmoid(self.calibration_[0] * decisions + self.calibration_[1])
        self.oof_truth_ = truth
        return self

    def _fit_lr(self, X: np.ndarray, Y: np.ndarray, extra_X: np.ndarray | None,
                extra_Y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.linear_model import LogisticRegression

        if extra_X is not None and extra_Y is not None and len(extra_X):
            X = np.vstack([X, extra_X])
            Y = np.vstack([Y, extra_Y])
        coef = np.zeros((Y.shape[1], X.shape[1]), dtype=np.float64)
        intercept = np.full(Y.shape[1], -10.0)
        for k in range(Y.shape[1]):
            y = Y[:, k].astype(int)
            if 0 < y.sum() < len(y):
                lr = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000)
                lr.fit(X, y)
                coef[k], intercept[k] = lr.coef_[0], lr.intercept_[0]
        return coef, intercept

    def _out_of_fold(self, X: np.ndarray, Y: np.ndarray, groups: Sequence[str] | None,
                     extra_X: np.ndarray | None,
                     extra_Y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.model_selection import GroupKFold, KFold

        n_groups = len(set(groups)) if groups is not None else 0
        if groups is not None and n_groups >= 2:
            splitter: Any = GroupKFold(n_splits=min(self.folds, n_groups))
            splits = splitter.split(X, groups=list(groups))
        elif len(X) >= 10:
            splitter = KFold(n_splits=min(self.folds, len(X)), shuffle=True,
                             random_state=self.random_state)
            splits = splitter.split(X)
        else:
            return np.zeros((0, Y.shape[1])), np.zeros((0, Y.shape[1]))
        decisions = np.zeros(Y.shape, dtype=np.float64)
        for train, test in splits:
            coef, intercept = self._fit_lr(X[train], Y[train], extra_X, extra_Y)
            decisions[test] = X[test] @ coef.T + intercept
        return decisions, Y

    @staticmethod
    def _platt(decisions: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
        from sklearn.linear_model import LogisticRegression

        y = truth.ravel().astype(int)
        if decisions.size == 0 or y.min() == y.max():
            return (1.0, 0.0)
        lr = LogisticRegression(C=100.0).fit(decisions.reshape(-1, 1), y)
        return (float(lr.coef_[0][0]), float(lr.intercept_[0]))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "coef_"):
            raise ModelError("the head is not fitted", hint="train it with `precode train`")
        return X @ self.coef_.T + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        a, b = self.calibration_
        return _sigmoid(a * self.decision_function(X) + b)


class SavedHead:
    """A trained head plus what it needs at suggestion time (evidence, settings)."""

    def __init__(self, head: TrainedHead, info: dict[str, Any], evidence_vectors: np.ndarray,
                 evidence_texts: Sequence[str], evidence_codes: np.ndarray,
                 evidence_origins: Sequence[str]) -> None:
        self.head = head
        self.info = info
        self.evidence_vectors = evidence_vectors
        self.evidence_texts = list(evidence_texts)
        self.evidence_codes = evidence_codes
        self.evidence_origins = list(evidence_origins)

    @property
    def code_ids(self) -> list[str]:
        return self.head.code_ids_

    @property
    def method(self) -> str:
        return f"trained:{self.info.get('name', 'head')}"

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(folder / "head.npz", "wb") as fh:
            np.savez(fh, coef=self.head.coef_, intercept=self.head.intercept_,
                     calibration=np.array(self.head.calibration_),
                     evidence_vectors=self.evidence_vectors,
                     evidence_codes=self.evidence_codes,
                     evidence_texts=np.array(self.evidence_texts, dtype=str),
                     evidence_origins=np.array(self.evidence_origins, dtype=str))
        with atomic_write(folder / "head.json") as fh:
            json.dump(self.info, fh, indent=2, ensure_ascii=False)
            fh.write("\n")

    @classmethod
    def load(cls, folder: str | Path, fingerprint: str | None = None,
             code_ids: Sequence[str] | None = None) -> SavedHead:
        folder = Path(folder)
        meta, arrays = folder / "head.json", folder / "head.npz"
        if not meta.exists() or not arrays.exists():
            raise ModelError("not a trained precode model (head.json and head.npz expected)",
                             path=folder, hint="train one with `precode train RUN --gold "
                                               "FILE --out models/NAME`")
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
            data = np.load(arrays, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise ModelError(f"cannot read the model files ({exc})", path=folder,
                             hint="train the model again") from exc
        if info.get("format") != HEAD_FORMAT:
            raise ModelError(f"model format {info.get('format')!r} is not supported",
                             path=folder, hint="train the model again with this precode")
        if fingerprint is not None and info.get("embedder") != fingerprint:
            raise ModelError(
                f"this model was trained with embedder {info.get('embedder')!r}, but the run "
                f"uses {fingerprint!r}", path=folder,
                hint="use the embed settings the model was trained with, or train it again")
        if code_ids is not None and list(code_ids) != info.get("code_ids"):
            raise ModelError(
                "this model was trained for a codebook with other codes", path=folder,
                hint="suggest with the codebook it was trained on, or train it again on the "
                     "current codebook")
        head = TrainedHead(**info.get("params", {}))
        head.code_ids_ = list(info["code_ids"])
        head.coef_ = data["coef"]
        head.intercept_ = data["intercept"]
        cal = data["calibration"]
        head.calibration_ = (float(cal[0]), float(cal[1]))
        return cls(head, info, data["evidence_vectors"], list(data["evidence_texts"]),
                   data["evidence_codes"], list(data["evidence_origins"]))

    def evidence(self, vectors: np.ndarray, code_index: int,
                 sources: Sequence[str] | None = None) -> list[list[Evidence]]:
        """The nearest coded segment (or codebook example) of the code, for each vector.

        With `sources`, coded segments of the vector's own source are passed over: a
        neighbour from the same interview (often the same turn) explains little.
        """
        rows = np.flatnonzero(self.evidence_codes == code_index)
        if not len(rows):
            return [[] for _ in range(len(vectors))]
        sims = vectors @ self.evidence_vectors[rows].T
        if sources is not None:
            origin = [self.evidence_origins[r] for r in rows]
            own = np.array([[o.startswith(f"coded:{src}:") for o in origin] for src in sources])
            usable = np.asarray(~own.all(axis=1))  # all own-source: keep them, nothing else
            sims = np.where(own & usable[:, None], -np.inf, sims)
        best = sims.argmax(axis=1)
        return [[Evidence(self.evidence_texts[rows[b]], round(float(sims[i, b]), 4),
                          self.evidence_origins[rows[b]])] for i, b in enumerate(best)]


def head_info(name: str, fingerprint: str, code_ids: Sequence[str], params: dict[str, Any],
              settings: dict[str, Any], quality: dict[str, Any],
              training: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": HEAD_FORMAT,
        "name": name,
        "versions": package_versions(),
        "embedder": fingerprint,
        "code_ids": list(code_ids),
        "codebook_signature": codebook_signature(code_ids),
        "params": params,
        "context": settings,
        "quality": quality,
        "training": training,
    }


def load_head(model: str | Path, embedder: Embedder, codebook: Codebook) -> SavedHead:
    """The trained head in folder `model`, checked against the embedder and the codebook."""
    path = Path(model)
    if not path.exists():
        raise InputNotFoundError("no such trained model folder", path=path,
                                 hint="train one with `precode train RUN --gold FILE --out "
                                      "models/NAME`, or leave out --model for zero-shot")
    return SavedHead.load(path, fingerprint=embedder.fingerprint, code_ids=codebook.code_ids())
