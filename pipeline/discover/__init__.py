"""Inductive discovery: clusters of the segments no code fits, as candidate new codes.

`discovery.discover(run)` is the entry point behind `precode discover RUN` (its steps are
described there); `result` holds what it finds, `candidates` the codebook it proposes.
"""

from pipeline.discover.discovery import discover, discover_settings, write_discovery
from pipeline.discover.result import Candidate, Discovery, Exemplar, NearestCode

__all__ = ["Candidate", "Discovery", "Exemplar", "NearestCode", "discover", "discover_settings",
           "write_discovery"]
