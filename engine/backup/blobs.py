"""Copy the content-addressed blob folder (LANDFLOW_BLOB_DIR) into a backup, or back.

Files are named by their SHA-256 and never rewritten, so a copy only adds what is missing; each copied
file is read back and hashed, and a file whose bytes do not give its name is reported, not copied.
Taken after the database copy, the folder holds every file the copied database names."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..papers.blobs import HEX


@dataclass
class BlobCopy:
    copied: int = 0
    present: int = 0
    bytes: int = 0
    damaged: list[str] = field(default_factory=list)  # files whose bytes do not give their name


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def copy_blobs(source: Path, target: Path) -> BlobCopy:
    """Add to `target` every blob of `source` it lacks (same `ab/cd/<sha256>` layout)."""
    result = BlobCopy()
    if not source.is_dir():
        return result
    for path in sorted(source.glob("??/??/*")):
        name = path.name
        if not HEX.match(name) or not path.is_file():
            continue  # `.incoming-*`: a write in progress, not yet named by any event
        dest = target / name[:2] / name[2:4] / name
        if dest.exists():
            result.present += 1
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            if _sha256(Path(tmp)) != name:
                result.damaged.append(str(path))
                continue
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o440)
            os.replace(tmp, dest)
            result.copied += 1
            result.bytes += dest.stat().st_size
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return result
