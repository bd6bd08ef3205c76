"""The wheel: built like `pip wheel .`, installed non-editable into a fresh venv, run elsewhere.

The YAML files live in the top-level configs/ and reach the wheel as pipeline/configs/ only
through the package mapping in pyproject.toml, so a checkout (where pytest imports `pipeline`
from the repository) can never show that the mapping works; this module builds the wheel from
a copy of the tree (a stale build/ folder cannot hide a broken mapping) and installs it.

To stay quick and offline after the build, the fresh venv gets precode itself from the wheel
(`--no-deps`) and its dependencies from the project's environment through a `.pth` line. A
`.pth` line only adds a folder to sys.path, it does not run the `.pth` files inside it, so the
editable install of the repository (its `__editable__` finder) stays out; the tests check that
`pipeline` is imported from the new venv all the same.

One fast test (not `slow`) checks the package list that the mapping forces on pyproject.toml.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ("p01_nurse_day_ward.txt", "p03_occupational_therapist_clubhouse.vtt",
           "p04_psychiatrist_general_hospital.srt")
PACKAGED = ("pipeline/py.typed", "pipeline/configs/default.yaml",
            "pipeline/configs/codebooks/recovery_peer_support.yaml",
            "pipeline/configs/codebooks/recovery_peer_support.zh-TW.yaml")


def _setuptools_config() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]


def test_package_list_names_every_subpackage() -> None:
    """pyproject.toml lists its packages by hand (the configs/ mapping rules out discovery);
    a folder of modules missing from the list would be missing from the wheel."""
    config = _setuptools_config()
    if not isinstance(config.get("packages"), list):
        pytest.skip("pyproject.toml finds its packages itself")
    listed = set(config["packages"])
    mapped = config.get("package-dir", {})
    on_disk = {".".join(folder.relative_to(ROOT).parts)
               for folder in {path.parent for path in (ROOT / "pipeline").rglob("*.py")}
               if "__pycache__" not in folder.parts}
    assert not on_disk - listed, (
        f"add {sorted(on_disk - listed)} to [tool.setuptools] packages in pyproject.toml")
    stale = {name for name in listed - on_disk
             if not any(name == key or name.startswith(key + ".") for key in mapped)}
    assert not stale, f"[tool.setuptools] packages names folders that are gone: {sorted(stale)}"
    for package, folder in mapped.items():
        assert (ROOT / folder).is_dir(), f"package-dir maps {package} to a missing {folder}/"


def _run(args: list[str | Path], *, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(arg) for arg in args], capture_output=True, text=True,
                            cwd=cwd, env=env)
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}")
    return result


def _copy_tree(dest: Path) -> Path:
    """The files git would commit (tracked or untracked, not ignored): no build/, no .venv."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], capture_output=True, check=True).stdout
        names = [name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = []
    if names:
        for name in names:
            source = ROOT / name
            if source.is_file():  # a file deleted but not yet committed is still listed
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest / name)
    else:  # not a git checkout
        shutil.copytree(ROOT, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "runs", "models",
            ".*cache*"))
    return dest


def _clean_env(venv: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "PRECODE_", "PIP_")) and key != "VIRTUAL_ENV"}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel . --no-deps` on a copy of the tree (with build isolation, as users build)."""
    source = _copy_tree(tmp_path_factory.mktemp("source"))
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-w", dist, "-q"],
         env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    (built,) = dist.glob("precode-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed non-editable; dependencies lent by .venv."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    # precode alone, before the project's site-packages is visible (pip must neither see nor
    # touch the editable install there)
    _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
          "--no-index", "-c", ROOT / "constraints.txt", wheel], env=_clean_env(venv))
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     env=_clean_env(venv)).stdout.strip())
    lent = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site / "zz_precode_test_dependencies.pth").write_text("".join(f"{p}\n" for p in lent))
    return venv


def _in_venv(venv: Path, code: str) -> str:
    return _run([venv / "bin" / "python", "-c", code], env=_clean_env(venv),
                cwd=venv).stdout.strip()


@pytest.mark.slow
def test_wheel_carries_configs_and_every_module(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(PACKAGED) <= names, f"missing from the wheel: {sorted(set(PACKAGED) - names)}"
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "pipeline").rglob("*.py")
               if "__pycache__" not in path.parts}
    assert modules <= names, f"modules missing from the wheel: {sorted(modules - names)}"
    assert not any(name.startswith("configs/") for name in names), "configs/ at the top level"


@pytest.mark.slow
def test_installed_package_is_the_wheel_not_the_checkout(venv: Path) -> None:
    report = json.loads(_in_venv(venv, (
        "import json, sys, importlib.metadata as md, pipeline, pipeline.config as c\n"
        "dist = md.distribution('precode')\n"
        "print(json.dumps({'pipeline': pipeline.__file__, 'config': str(c.DEFAULT_CONFIG),\n"
        "  'codebook': str(c.REFERENCE_CODEBOOK), 'dist': str(dist.locate_file('')),\n"
        "  'direct_url': dist.read_text('direct_url.json') or '{}',\n"
        "  'finders': [repr(f) for f in sys.meta_path]}))")))
    site = Path(_in_venv(venv, "import sysconfig; print(sysconfig.get_paths()['purelib'])"))
    for key in ("pipeline", "config", "codebook", "dist"):
        assert Path(report[key]).resolve().is_relative_to(site.resolve()), (key, report[key])
    assert Path(report["config"]) == site / "pipeline" / "configs" / "default.yaml"
    assert not json.loads(report["direct_url"]).get("dir_info", {}).get("editable")
    assert not any("editable" in finder.lower() for finder in report["finders"])


@pytest.mark.slow
def test_installed_precode_runs_from_another_folder(venv: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "transcripts"
    inputs.mkdir()
    for name in SAMPLES:
        shutil.copy2(ROOT / "data" / "sample" / name, inputs / name)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = _clean_env(venv)
    _run([venv / "bin" / "precode", "run", inputs, "--out", tmp_path / "run", "--set",
          "embed.backend=tfidf"], cwd=work, env=env)
    assert (tmp_path / "run" / "suggestions.jsonl").stat().st_size > 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    packaged = Path(_in_venv(venv, "from pipeline.config import DEFAULT_CONFIG as d; print(d)"))
    default = yaml.safe_load(packaged.read_text(encoding="utf-8"))
    assert manifest["config"]["embed"]["backend"] == "hashed-ngrams"
    for section in ("segment", "suggest"):
        assert manifest["config"][section] == default[section], section
    assert {key: value for key, value in manifest["config"]["embed"].items() if key != "backend"} \
        == {key: value for key, value in default["embed"].items() if key != "backend"}
    assert len(manifest["inputs"]) == len(SAMPLES)

    codebook = _in_venv(venv, "from pipeline.config import REFERENCE_CODEBOOK as c; print(c)")
    validated = _run([venv / "bin" / "precode", "codebook", "validate", codebook], cwd=work,
                     env=env)
    assert validated.stdout.startswith("OK:"), validated.stdout
