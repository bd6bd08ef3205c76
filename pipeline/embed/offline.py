"""No network at run time: transcripts are confidential, and users' laptops are offline.

Hugging Face libraries read these switches when they are imported, so `ensure_offline()` runs
before anything imports `transformers`, `huggingface_hub` or `sentence_transformers`.
"""

from __future__ import annotations

import os

_SWITCHES = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    # and quiet: no download or weight-loading progress bars on the user's terminal
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def ensure_offline() -> None:
    for key, value in _SWITCHES.items():
        os.environ[key] = value
