"""File helpers shared by the loader and the audit pack."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

from .errors import InsynError


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (0600), whatever the umask; its folder 0700 if new."""
    import os

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:   # never through a symbolic link planted where the file goes
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InsynError(f"{path}: a symbolic link; Insyn writes personal data to a file of its own only") from None
        raise
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT


def replace_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically (a temporary file beside it, fsynced, then renamed), 0600:
    a reader sees the old file or the new one, never half of it. The folder must exist."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:   # the rename itself survives a crash once the folder is synced
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass
