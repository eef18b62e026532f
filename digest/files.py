"""Safe file output: folders checked before the work, files renamed into place.

Everything digest writes for the user goes through here, so that:

* files get the permissions the user's umask asks for (0644 under umask 022),
  not the 0600 that `mkstemp` gives: a web server or a sync job must read them;
* a file appears complete or not at all (temporary name, then rename);
* a group of files (an episode's MP3 and its sidecars) is staged in full in a
  hidden folder beside its targets and only then moved into place, with
  SIGINT/SIGTERM held back during the moves; if anything fails the files that
  were there before are left exactly as they were.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, Union

from digest.errors import InputError

TEMP_SUFFIX = ".tmp"
STAGING_PREFIX = ".digest-"  # staging folders: .digest-<random>.tmp

_umask_lock = threading.Lock()


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


def current_umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def user_file_mode() -> int:
    """The mode a plain `open(path, "w")` would give a new file: 0666 less the umask."""
    return 0o666 & ~current_umask()


# A file's content: its bytes, or a function that writes them to an open file
# (an episode's audio is copied from the clip cache rather than held in memory).
Content = Union[bytes, Callable[[BinaryIO], None]]


def write_atomically(path: Path, data: Content) -> None:
    """Write to a temporary file beside `path`, then rename it into place.

    The file gets the permissions the umask gives a new file (mkstemp's are
    0600): a web server must be able to read a published episode.
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), user_file_mode())
            if isinstance(data, bytes):
                handle.write(data)
            else:
                data(handle)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path, pattern: str, older_than: float = 3600) -> None:
    """Delete temporary files or staging folders a killed run left behind.

    Only old ones: a younger one may belong to another run writing right now.
    """
    cutoff = time.time() - older_than
    for temp in folder.glob(pattern):
        try:
            if temp.lstat().st_mtime >= cutoff:
                continue
            if temp.is_dir() and not temp.is_symlink():
                shutil.rmtree(temp, ignore_errors=True)
            else:
                temp.unlink()
        except OSError:
            pass


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for a few renames, then act on them.

    Python runs signal handlers in the main thread only, so elsewhere this
    does nothing (a library caller in a thread has its own arrangements).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[number] = signal.signal(number, lambda sig, frame: received.append(sig))
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in received[:1]:
            handler = previous.get(number)
            if callable(handler):
                handler(number, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), number)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on `folder` (flock on the folder itself: no lock file to leave behind).

    Held while an episode's names are chosen and its files moved into place,
    so two builds writing to one folder cannot interleave their files.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_group(folder: Path, files: Mapping[str, Content], order: list[str] | None = None) -> None:
    """Write every `name -> data` in `files` into `folder`, all or nothing.

    The files are written in full to a hidden staging folder in `folder`
    (same file system: the moves are renames).  Only when every one is
    complete are they moved into place, in `order` (default: as given), with
    SIGINT/SIGTERM held.  If a move fails, the files it replaced are put back
    and the new ones removed.  The staging folder never outlives the call
    (except under SIGKILL; `remove_stale_temporaries` sweeps those later).
    Raises OSError.
    """
    staging = folder / f"{STAGING_PREFIX}{os.urandom(6).hex()}{TEMP_SUFFIX}"
    staging.mkdir()
    try:
        for name, data in files.items():
            write_atomically(staging / name, data)
        with signals_held():
            _move_into_place(staging, folder, order or list(files))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(staging: Path, folder: Path, names: list[str]) -> None:
    backup = staging / "previous"
    backup.mkdir()
    moved: list[tuple[str, bool]] = []  # (name, had an earlier file)
    try:
        for name in names:
            target = folder / name
            had_previous = target.is_file()
            if had_previous:
                try:  # a second name for the old file, to restore it
                    os.link(target, backup / name)
                except OSError:  # a file system without hard links
                    shutil.copy2(target, backup / name)
            os.replace(staging / name, target)
            moved.append((name, had_previous))
    except BaseException:
        for name, had_previous in reversed(moved):
            with contextlib.suppress(OSError):
                if had_previous:
                    os.replace(backup / name, folder / name)
                else:
                    (folder / name).unlink()
        raise
