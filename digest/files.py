"""Safe file output: folders checked before the work, files renamed into place."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from digest.errors import InputError

TEMP_SUFFIX = ".tmp"


def ensure_folder(folder: Path, role: str) -> None:
    """Create `folder` if needed; fail now, not after an hour of synthesis, if unusable."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"{role} {folder} is not a folder") from None
    except OSError as exc:
        raise InputError(f"{role} {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{role} {folder} is not writable")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place.

    The file gets the permissions the umask gives a new file (mkstemp's are
    0600): a web server must be able to read a published episode.
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path, pattern: str, older_than: float = 3600) -> None:
    """Delete temporary files a killed run left behind (never trusted, only clutter).

    Only old ones: a younger one may belong to another run writing right now.
    """
    cutoff = time.time() - older_than
    for temp in folder.glob(pattern):
        try:
            if temp.stat().st_mtime < cutoff:
                temp.unlink()
        except OSError:
            pass
