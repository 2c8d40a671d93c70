"""Which code made a result: the package version and the git commit of its checkout.

``git archive`` writes the commit into ``ARCHIVED`` (``export-subst`` in .gitattributes), so a copy
without ``.git`` (a machine the tree was shipped to as an archive) still names it; an archive is
HEAD's tree, so it has no uncommitted changes. In a checkout, git says, and ``-dirty`` marks
uncommitted changes to tracked files.
"""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

from ._version import __version__

ARCHIVED = "$Format:%H$"
_HASH = re.compile(r"[0-9a-f]{40}(-dirty)?")


@functools.lru_cache(maxsize=1)
def commit() -> str | None:
    """The checkout's commit (40 hex digits, ``-dirty`` appended when tracked files differ from
    it), the archived commit, or None when neither is known (an installed wheel)."""
    if _HASH.fullmatch(ARCHIVED):
        return ARCHIVED
    here = Path(__file__).resolve().parent
    try:
        # Only a checkout that tracks this package names its code (not a repository it merely lies in).
        subprocess.run(["git", "ls-files", "--error-unmatch", Path(__file__).name], cwd=here, check=True, capture_output=True)
        described = subprocess.run(["git", "describe", "--always", "--abbrev=40", "--dirty"], cwd=here, check=True,
                                   capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return described if _HASH.fullmatch(described) else None


def code() -> dict:
    """``{"version", "commit"}`` for a result file."""
    return {"version": __version__, "commit": commit()}
