"""Where the packaged data lives: the default config and the reference codebooks.

The YAML files are kept in the repository's top-level `configs/` (where the README points
people), and the build maps that folder into the wheel as `pipeline/configs/` (see
`[tool.setuptools.package-dir]` in pyproject.toml). An installed wheel therefore finds them
inside the package, through `importlib.resources`; a checkout (pytest, `pip install -e`) has no
`pipeline/configs/` and uses the `configs/` beside `pipeline/`. Every other module asks here
instead of computing a path from its own `__file__`. Standard library only.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _config_dir() -> Path:
    packaged = files(__package__ or "pipeline") / "configs"
    if isinstance(packaged, Path) and packaged.is_dir():  # an installed wheel
        return packaged.resolve()
    checkout = Path(__file__).resolve().parent.parent / "configs"
    if checkout.is_dir() or not isinstance(packaged, Path):  # a checkout or editable install
        return checkout
    return packaged.resolve()  # neither: errors name where the wheel should have put it


CONFIG_DIR = _config_dir()
DEFAULT_CONFIG = CONFIG_DIR / "default.yaml"
REFERENCE_CODEBOOK = CONFIG_DIR / "codebooks" / "recovery_peer_support.yaml"
