"""Model folders built once into the cache: put a finished one in place safely.

Two first runs may build the same folder at once; each builds in a temporary folder, and the
one that finishes second keeps the first one's (a process may already be reading it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def replace_folder(new: Path, target: Path) -> None:
    """Put `new` at `target`; an old folder there is first moved aside, then removed."""
    if target.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        os.replace(target, aside / target.name)
        shutil.rmtree(aside, ignore_errors=True)
    os.replace(new, target)
