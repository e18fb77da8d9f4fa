"""The data_ops wheel's version, read by hatchling (`[tool.hatch.version]` in pyproject.toml).

It sits beside the package, not in it: on sys.path in the editable install, hence the long module name.

`0.1.0+<12 hex chars>`: the release, then a digest of the package's `.py` files, sorted by their
path relative to this folder. A changed library is a new version, so pip installs it on a cluster
that already has the last one; the same sources give the same version on any machine (no time, no
absolute path; line endings are normalized so a Windows checkout agrees). Not part of the wheel.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

RELEASE = "0.1.0"
PACKAGE = "data_ops"


def source_digest(root: Path) -> str:
    """sha256 over each `.py` file of `root/data_ops`: its relative POSIX path, then its content's digest."""
    digest = hashlib.sha256()
    package = root / PACKAGE
    for relative in sorted(path.relative_to(root).as_posix() for path in package.rglob("*.py")):
        content = (root / relative).read_bytes().replace(b"\r\n", b"\n")
        digest.update(relative.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def version(root: Path) -> str:
    return f"{RELEASE}+{source_digest(root)[:12]}"


__version__ = version(Path(__file__).resolve().parent)
