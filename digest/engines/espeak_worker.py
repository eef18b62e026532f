"""The espeak worker: a small process that speaks utterances for the offline engine.

    python .../digest/engines/espeak_worker.py PARENT_PID [RENEWALS]

Why a process: every utterance needs a freshly loaded espeak library (see
`digest.engines.offline`, "Determinism"), and each load leaves about 0.36 MB
behind that no unload gives back.  A worker renews itself every few utterances
(`digest.engines.espeak_pool`), so the build's memory stays flat however long
the episode.

The worker is started by file path, not as `-m digest...`, and imports only the
standard library and `espeak_binding.py` (loaded by its path), so it costs an
interpreter and espeak, not the digest package.

Protocol, over stdin (requests) and stdout (replies): each message is a header
``>II`` (length of the meta, length of the payload), then the meta (a dict in
`marshal`'s format: both sides run the same interpreter), then the payload (raw
bytes).  The worker first says hello (``{"version", "sample_rate", "renewals"}``
or ``{"error"}``), then answers each request ``{"text", "voice", "voice_file",
"wpm", "amplitude"}`` with ``{"events", "sample_rate"}`` and the 16-bit PCM as
payload, or ``{"error"}`` when espeak refuses (asking again would give the same
answer).  ``{"renew": True}``: the worker execs itself afresh (same pid, same
pipes) and says hello again.  End of input: the worker exits.

Never outliving the parent: SIGINT is ignored (Ctrl-C in a terminal reaches the
whole process group; stopping is the parent's business), and the worker exits
at the end of its input (the parent closed the pipe, or died).  On Linux it also
asks the kernel for SIGKILL when the thread that started it ends
(PR_SET_PDEATHSIG), in case it is stuck inside espeak when that happens.
"""

from __future__ import annotations

import io
import marshal
import os
import signal
import struct
import sys

_HEADER = struct.Struct(">II")

Message = tuple[dict, bytearray]


def send(stream: io.IOBase, meta: dict, payload: bytes | bytearray = b"") -> None:
    """Write one whole message (to a buffered or a raw stream) and flush it."""
    data = marshal.dumps(meta)
    for part in (_HEADER.pack(len(data), len(payload)) + data, payload):
        view = memoryview(part)
        while view:
            view = view[stream.write(view) or 0 :]  # a raw stream may take only part of it
    stream.flush()


def receive(stream: io.RawIOBase) -> Message | None:
    """Read one message; None at a clean end of input (between messages)."""
    header = _read(stream, _HEADER.size, allow_eof=True)
    if header is None:
        return None
    meta_size, payload_size = _HEADER.unpack(header)
    meta = marshal.loads(_read(stream, meta_size))
    return meta, _read(stream, payload_size) if payload_size else bytearray()


def _read(stream: io.RawIOBase, size: int, allow_eof: bool = False) -> bytearray | None:
    # Unbuffered on purpose: nothing beyond this message may be read ahead and lost
    # when the worker renews itself (exec).
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = stream.readinto(view[got:])
        if not count:
            if allow_eof and not got:
                return None
            raise EOFError("the other side closed the pipe mid-message")
        got += count
    return buffer


def _die_with_parent(parent: int | None) -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # stdin's end still stops the worker
    if parent is not None and os.getppid() != parent:
        os._exit(0)  # the parent died before the signal was asked for


def _load_binding():
    """espeak_binding.py from this file's folder, as a module of its own (no digest package)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "espeak_binding.py")
    spec = importlib.util.spec_from_file_location("digest_espeak_binding", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _heap_trimmer():
    """glibc's malloc_trim, or a no-op: gives back the free pages an utterance's
    allocations left inside the heap (about 3 MB after a long chunk)."""
    try:
        import ctypes

        release = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return lambda: None
    return lambda: release(0)


def serve(requests: io.RawIOBase, replies: io.BufferedIOBase, argv: list[str]) -> int:
    """Say hello, then answer requests until the end of input (returns the exit status),
    or until asked to renew itself (does not return: see `_renew`)."""
    renewals = int(argv[2]) if len(argv) > 2 else 0
    binding = _load_binding()
    trim = _heap_trimmer()
    try:
        with binding.fresh_espeak() as library:
            hello = {
                "version": library.version,
                "sample_rate": library.sample_rate,
                "renewals": renewals,
            }
    except binding.EspeakError as exc:
        send(replies, {"error": str(exc)})
        return 1
    send(replies, hello)
    while True:
        message = receive(requests)
        if message is None:
            return 0
        request, _ = message
        if request.get("renew"):
            return _renew(replies, [*argv[:2], str(renewals + 1)])
        try:
            pcm, events, rate = binding.speak(
                request["text"],
                request["voice"],
                request["voice_file"],
                request["wpm"],
                request["amplitude"],
            )
        except Exception as exc:  # noqa: BLE001 - espeak's refusal (or text it cannot take)
            send(replies, {"error": str(exc) or type(exc).__name__})
        else:
            send(replies, {"events": events, "sample_rate": rate}, pcm)
            del pcm, events
        trim()


def _renew(replies: io.BufferedIOBase, argv: list[str]) -> int:
    """Become a fresh worker in this same process (exec): whatever espeak's loads left
    behind goes, the pipes and the pid stay, and the parent spends nothing on it.
    The new image says hello again.  Returns (an exit status) only if exec fails."""
    replies.flush()
    os.dup2(replies.fileno(), 1)  # stdout is the reply pipe again, as when first started
    try:
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), *argv[1:]])
    except OSError:
        return 1  # the parent reads the end of the pipe instead of a hello: a lost worker


def main(argv: list[str]) -> int:
    """The worker's entry point: argv is [this file, the parent's pid, renewals so far]."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(int(argv[1]) if len(argv) > 1 else None)
    # Replies get their own copy of stdout; fd 1 then points at stderr, so that
    # anything else printed (espeak's own complaints) cannot corrupt a reply.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = open(0, "rb", buffering=0, closefd=False)  # noqa: SIM115 - fd 0 outlives it
    try:
        return serve(requests, replies, argv)
    except (EOFError, BrokenPipeError):  # the parent went away mid-message
        return 0
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback: the parent
        # sees the pipe end, counts the clip as a retryable failure and starts another worker
        print(f"digest: espeak worker failed: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    del sys.path[0]  # this folder: its modules are not top-level modules
    sys.exit(main(sys.argv))
