"""Does discovery find a code the codebook lacks? Leave each code out in turn and look.

For each of the reference codebook's codes: suggest with the codebook minus that code, run
`precode discover`, and ask whether some candidate is mostly made of segments coder A coded
with the removed code (purity >= 0.5: "recovered"). Per removed code it prints the candidate
with the most such segments among those that qualify (else the purest one): its size, purity
(share of its segments coder A gave the removed code) and recall (share of all the segments
coder A gave the removed code, in the sources discovery looked at, that it holds). Two
baselines keep the figures honest: *chance* is how often candidates of the same sizes drawn
at random from the clustered segments would qualify (mean of 50 draws), and *full* says
whether a qualifying candidate appears even when the code is still in the codebook (segments
the suggester misses anyway).

    python benchmarks/discovery.py [--backend sentence-transformers|hashed-ngrams] [--coder A]
                                   [--set discover.KEY=VALUE ...]

With the default model and a warm embedding cache this takes two to three minutes on 2 cores.

    python benchmarks/discovery.py --scale 5000,10000,20000,40000 [--exact-limit 20000]

measures the clustering alone at scale, on a synthetic mixture of themes (unit vectors, 384
dimensions: `mixture`): peak RSS and seconds of the exact method and of the two-stage method
(`pipeline.discover.cluster`), each size in its own process, and the adjusted Rand index of the
two-stage labels against the exact ones and against the true themes, where both fit.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.align import segment_codes  # noqa: E402
from pipeline.codebook import codebook_to_yaml, load_codebook  # noqa: E402
from pipeline.config import REFERENCE_CODEBOOK, load_config  # noqa: E402
from pipeline.discover import Discovery, discover  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.gold import read_gold_csv  # noqa: E402
from pipeline.records import Codebook  # noqa: E402
from pipeline.run_folder import RunFolder  # noqa: E402
from pipeline.stages import ingest_stage, segment_stage, suggest_stage  # noqa: E402

SAMPLE = ROOT / "data" / "sample"
PURITY = 0.5
DRAWS = 50


def without(book: Codebook, code_id: str) -> Codebook:
    """The codebook, and each of its editions, without one code."""
    themes = []
    for theme in book.themes:
        codes = tuple(c for c in theme.codes if c.id != code_id)
        if codes:
            themes.append(dataclasses.replace(theme, codes=codes))
    editions = tuple(without(edition, code_id) for edition in book.editions)
    return dataclasses.replace(book, themes=tuple(themes), editions=editions)


def best_candidate(result: Discovery, coded: set[str]) -> dict[str, float | int | str] | None:
    """The qualifying candidate with the most segments of the code, else the purest one."""
    best: tuple[tuple[float, ...], dict[str, float | int | str]] | None = None
    for c in result.candidates:
        hits = sum(1 for s in c.segment_ids if s in coded)
        purity = hits / c.size
        key = (purity >= PURITY, hits if purity >= PURITY else purity, purity)
        if best is None or key > best[0]:
            best = (key, {"id": c.id, "size": c.size, "hits": hits, "purity": purity,
                          "nearest": c.nearest.code if c.nearest else "-"})
    return best[1] if best else None


def chance(result: Discovery, coded: set[str], rng: np.random.Generator) -> float:
    """How often random candidates of the same sizes would hold one with purity >= 0.5."""
    pool = np.array([s in coded for s in result.clustered_ids])
    sizes = [c.size for c in result.candidates]
    if not sizes or sum(sizes) > len(pool):
        return 0.0
    hits = 0
    for _ in range(DRAWS):
        order = rng.permutation(len(pool))
        start = 0
        for size in sizes:
            if pool[order[start:start + size]].mean() >= PURITY:
                hits += 1
                break
            start += size
    return hits / DRAWS


def mixture(n: int, seed: int = 0, themes: int = 80, noise: float = 0.25,
            dim: int = 384) -> tuple[np.ndarray, np.ndarray]:
    """`n` unit vectors: themes of Zipf-like sizes (cosine distance to their centre about
    0.1 to 0.5, so within-theme averages sit under the 0.5 cut and other themes near 1), plus a
    share `noise` of scattered rows that belong to none (label -1)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(themes, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    sizes = 1.0 / np.arange(1, themes + 1) ** 0.7
    truth = rng.choice(themes, size=n, p=sizes / sizes.sum())
    truth[rng.random(n) < noise] = -1
    spread = rng.uniform(0.45, 0.75, size=themes)[truth] / np.sqrt(dim)
    x = np.where(truth[:, None] >= 0, centres[truth], 0.0) + \
        rng.normal(size=(n, dim)) * np.where(truth >= 0, spread, 1.0)[:, None]
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), truth


def scale_child(n: int, limit: int) -> None:
    """In a child process: cluster `mixture(n)` with this exact limit; print the seconds and
    save the labels for the parent."""
    from pipeline.discover.cluster import cluster_vectors

    vectors, _ = mixture(n)
    started = time.perf_counter()
    labels = cluster_vectors(vectors, distance_threshold=0.5, min_cluster_size=5,
                             exact_limit=limit)
    print(f"{time.perf_counter() - started:.1f}")
    np.save(Path(os.environ["LABELS"]), labels)


def scale(sizes: list[int], limit: int, exact_max: int) -> None:
    """Exact against two-stage, each size and method in its own process (peak RSS by wait4)."""
    from sklearn.metrics import adjusted_rand_score

    print(f"{'rows':>7} {'method':<10}{'seconds':>9}{'peak MB':>9}{'clusters':>9}"
          f"{'ARI vs exact':>14}{'ARI vs truth':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            exact = None
            methods = [("exact", n)] if n <= exact_max else []
            for method, lim in [*methods, ("two-stage", min(limit, n - 1))]:
                out = Path(tmp) / f"{n}-{method}.npy"
                child = subprocess.Popen(
                    [sys.executable, __file__, "--scale-child", str(n), str(lim)],
                    stdout=subprocess.PIPE, text=True, env=dict(os.environ, LABELS=str(out)))
                _, status, usage = os.wait4(child.pid, 0)
                seconds = child.stdout.read().strip() if child.stdout else "?"
                if os.waitstatus_to_exitcode(status) != 0:
                    print(f"{n:>7} {method:<10}{'failed (out of memory?)':>30}")
                    continue
                labels = np.load(out)
                truth = mixture(n)[1]
                exact = labels if method == "exact" else exact
                vs_exact = f"{adjusted_rand_score(exact, labels):.3f}" \
                    if exact is not None and method != "exact" else "-"
                print(f"{n:>7} {method:<10}{seconds:>9}{usage.ru_maxrss / 1024:>9.0f}"
                      f"{labels.max() + 1:>9}{vs_exact:>14}"
                      f"{adjusted_rand_score(truth, labels):>14.3f}")


def main() -> None:
    if sys.argv[1:2] == ["--scale-child"]:
        scale_child(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default=None, metavar="N,N,...",
                        help="measure the clustering at these sizes instead")
    parser.add_argument("--exact-limit", type=int, default=5000,
                        help="with --scale: the two-stage method's exact limit")
    parser.add_argument("--exact-max", type=int, default=20000,
                        help="with --scale: the largest size to run the exact method at "
                             "(40,000 rows need about 13 GB)")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--coder", default="A")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="config override, e.g. discover.method=hdbscan")
    args = parser.parse_args()
    if args.scale:
        scale([int(n) for n in args.scale.split(",")], args.exact_limit, args.exact_max)
        return
    started = time.perf_counter()
    config = load_config(overrides=[f"embed.backend={args.backend}", *args.overrides])
    settings = config["discover"]
    book = load_codebook(REFERENCE_CODEBOOK)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        ingest_stage([SAMPLE], run_dir, config, participants=SAMPLE / "participants.csv")
        segment_stage(run_dir, config)
        run = RunFolder(run_dir)
        sources, segments = run.sources(), run.segments()
        covered = make_embedder(config["embed"]).languages
        seen = {s.id for s in sources if covered is None or s.language in covered}
        gold = read_gold_csv(SAMPLE / "gold" / "codings.csv", sources, book, [args.coder])
        labels = segment_codes([s for s in segments if s.source_id in seen], gold.codings)

        suggest_stage(run_dir, config, force=True)
        full = discover(run_dir, settings)
        print(f"Leave-one-code-out discovery on {len(segments)} segments of {len(sources)} "
              f"sources ({len(seen)} looked at); backend {args.backend}; coder {args.coder}; "
              f"method {settings['method']}")
        print(f"With the full codebook: {full.counts['uncoded']} segments uncoded, "
              f"{full.counts['clustered']} clustered after the filler filter, "
              f"{len(full.candidates)} candidates.\n")
        header = (f"{'removed code':<38}{'gold':>5}{'seen':>6}{'cand':>7}{'size':>6}"
                  f"{'purity':>8}{'recall':>8}  {'rec.':<5}{'chance':>7}  full")
        print(header)
        print("-" * len(header))
        rows = []
        for code in book.code_ids():
            coded = {s for s, codes in labels.items() if code in codes}
            path = Path(tmp) / f"without_{code}.yaml"
            path.write_text(codebook_to_yaml(without(book, code)), encoding="utf-8")
            suggest_stage(run_dir, config, codebook=path, force=True)
            result = discover(run_dir, settings)
            reached = sum(1 for s in result.clustered_ids if s in coded)
            best = best_candidate(result, coded)
            control = best_candidate(full, coded)
            recovered = bool(best and float(best["purity"]) >= PURITY)
            in_full = bool(control and float(control["purity"]) >= PURITY)
            recall = int(best["hits"]) / len(coded) if best and coded else 0.0
            rows.append((recovered, float(best["purity"]) if best else 0.0, recall,
                         chance(result, coded, rng), in_full))
            print(f"{code:<38}{len(coded):>5}{reached:>6}"
                  f"{(best['id'][-2:] if best else '-'):>7}{(best['size'] if best else 0):>6}"
                  f"{rows[-1][1]:>8.2f}{recall:>8.2f}  {'yes' if recovered else 'no':<5}"
                  f"{rows[-1][3]:>7.2f}  {'yes' if in_full else 'no'}")
        found = [r for r in rows if r[0]]
        print("-" * len(header))
        print(f"Recovered {len(found)} of {len(rows)} removed codes (a candidate with purity >= "
              f"{PURITY}); by chance {sum(r[3] for r in rows):.1f} expected.")
        if found:
            print(f"Recovered codes: mean purity {np.mean([r[1] for r in found]):.2f}, mean "
                  f"recall {np.mean([r[2] for r in found]):.2f}.")
        print(f"{sum(1 for r in rows if r[4])} of {len(rows)} codes already have such a "
              "candidate with the full codebook (segments the suggester misses anyway).")
        print("gold: segments coder A gave the code; seen: of those, how many reached the "
              "clustering (uncoded after removal and not filler); cand: the candidate number.")
        print(f"({time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
