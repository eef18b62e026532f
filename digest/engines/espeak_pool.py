"""The offline engine's espeak worker processes, started on demand and renewed every N utterances.

`WorkerPool.speak` hands one utterance to an idle worker
(`digest.engines.espeak_worker`) and waits for its PCM, from one of the
engine's threads.  A pool keeps at most `size` workers, started when first
needed.  A worker that has spoken `recycle_after` utterances is asked to renew
itself: it execs a fresh interpreter in the same process, on the same pipes,
which drops what espeak's reloads left behind (see RECYCLE_AFTER).  Renewing
in place rather than starting another process spares the build's own process
a fork: until its exec, a child of a 90 MB process shows 90 MB of RSS, and a
3-hour build sampled every 50 ms peaked at 172 MiB instead of 120 that way.

A worker that dies, hangs past the reply deadline or talks nonsense is killed
and the utterance fails with `WorkerLost`: a fresh worker may well succeed, so
the engine makes it a retryable EngineError.  A refusal from espeak itself
(unknown voice, ...) is an `EspeakError`: asking again would not help.

`close` ends every worker: idle ones get the end of their input and exit, busy
ones are killed (their utterance is not wanted any more).  Workers are started
from the engine's own threads, which live as long as the engine's executor;
on Linux a worker also dies when the thread that started it ends
(PR_SET_PDEATHSIG), so the pool checks an idle worker is alive before using it.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from digest.engines import espeak_worker
from digest.engines.espeak_binding import EspeakError, Event

WORKER_FILE = os.path.abspath(espeak_worker.__file__)

# Measured (benchmarks/espeak_workers.py): a worker takes about 13 MB after its
# hello, and each utterance leaves about 0.4 MB behind in it (with the heap trimmed
# after each one).  A renewal takes about 25 ms, under 2% of the ~1.8 s of the
# build's CPU that 8 utterances take.  At 8, a worker grows by about 3 MB before
# it renews itself.
RECYCLE_AFTER = 8
START_TIMEOUT = 30.0  # seconds for a new worker's hello (an interpreter start under load)
REPLY_TIMEOUT = 30.0  # seconds for an answer, plus REPLY_TIMEOUT_PER_CHAR per character:
REPLY_TIMEOUT_PER_CHAR = 0.05  # espeak speaks ~470 characters in well under 0.5 s


# glibc: allocations above 256 KB (an utterance's PCM) are mapped and unmapped, never
# kept on the heap afterwards, so a worker's memory is its espeak and one utterance.
_WORKER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(256 * 1024)}


class WorkerLost(Exception):
    """The worker died, hung or broke the protocol; a fresh worker may succeed."""


@dataclass(frozen=True)
class Utterance:
    """One utterance as espeak spoke it."""

    pcm: bytes | bytearray  # 16-bit little-endian mono
    events: list[Event]  # (type, text_position, sample), see espeak_binding
    sample_rate: int


class Worker:
    """One espeak worker process and its two pipes. Used by one thread at a time."""

    def __init__(self, start_timeout: float = START_TIMEOUT) -> None:
        try:
            self.process = subprocess.Popen(
                [sys.executable, WORKER_FILE, str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
                env={**os.environ, **_WORKER_MALLOC},
            )
        except OSError as exc:  # no interpreter to start: asking again will not help
            raise EspeakError(f"cannot start an espeak worker: {exc}") from None
        self.pid = self.process.pid
        self.spoken = 0  # utterances answered since the worker was started or renewed
        self.renewals = 0  # times the worker has renewed itself (see `renew`)
        self._start_timeout = start_timeout
        self._out = self.process.stdout.fileno()  # type: ignore[union-attr]
        self._poll = select.poll()
        self._poll.register(self._out, select.POLLIN)
        try:
            self._hello()
        except BaseException:
            self.kill()
            raise

    def _hello(self) -> None:
        hello, _ = self._receive(time.monotonic() + self._start_timeout)
        if "error" in hello:
            raise EspeakError(hello["error"])
        self.version: str = hello["version"]
        self.renewals = hello["renewals"]
        self._hello_due = False

    def renew(self) -> None:
        """Ask the worker to become a fresh process image (exec, same pid and pipes):
        what espeak's loads left behind goes.  Its hello is read before the next request."""
        self._send({"renew": True})
        self.spoken = 0
        self._hello_due = True

    def speak(self, request: dict, timeout: float) -> Utterance:
        """Send one request and wait up to `timeout` seconds for its answer."""
        if self._hello_due:
            try:
                self._hello()
            except EspeakError as exc:  # it worked before its renewal: this one is lost
                raise WorkerLost(f"the renewed espeak worker failed: {exc}") from None
        self._send(request)
        meta, pcm = self._receive(time.monotonic() + timeout)
        if "error" in meta:
            raise EspeakError(meta["error"])
        self.spoken += 1
        return Utterance(pcm, [tuple(e) for e in meta["events"]], meta["sample_rate"])

    def _send(self, message: dict) -> None:
        try:
            espeak_worker.send(self.process.stdin, message)  # type: ignore[arg-type]
        except OSError as exc:  # BrokenPipeError: the worker is gone
            raise WorkerLost(f"the espeak worker is gone ({exc})") from None

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, wait: float = 2.0) -> None:
        """End of input: the worker exits. Killed if it has not within `wait` seconds."""
        try:
            self.process.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        try:
            self.process.wait(wait)
        except subprocess.TimeoutExpired:
            self.kill()
        else:
            self.process.stdout.close()  # type: ignore[union-attr]

    def signal_kill(self) -> None:
        """SIGKILL, nothing else: safe while another thread waits for this worker's answer
        (that thread then sees WorkerLost and reaps the worker)."""
        if self.process.returncode is None:
            try:
                self.process.kill()
            except OSError:
                pass

    def kill(self) -> None:
        """Kill the worker now, reap it and close its pipes (by the thread that uses it)."""
        self.signal_kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()  # type: ignore[union-attr]
            except OSError:
                pass

    def _receive(self, deadline: float) -> tuple[dict, bytearray]:
        import marshal

        header = self._read(espeak_worker._HEADER.size, deadline)
        meta_size, payload_size = espeak_worker._HEADER.unpack(header)
        try:
            meta = marshal.loads(self._read(meta_size, deadline))
        except (EOFError, ValueError, TypeError) as exc:
            raise WorkerLost(f"the espeak worker sent nonsense ({exc})") from None
        if not isinstance(meta, dict):
            raise WorkerLost("the espeak worker sent nonsense")
        return meta, self._read(payload_size, deadline)

    def _read(self, size: int, deadline: float) -> bytearray:
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0 or not self._poll.poll(max(1, int(left * 1000))):
                if time.monotonic() >= deadline:
                    raise WorkerLost("the espeak worker did not answer in time")
                continue
            try:
                count = os.readv(self._out, [view[got:]])
            except OSError as exc:
                raise WorkerLost(f"the espeak worker's pipe failed ({exc})") from None
            if count == 0:
                raise WorkerLost("the espeak worker exited")
            got += count
        return buffer


class WorkerPool:
    """Up to `size` espeak workers, each replaced after `recycle_after` utterances. Thread-safe."""

    def __init__(
        self,
        size: int,
        recycle_after: int = RECYCLE_AFTER,
        reply_timeout: float = REPLY_TIMEOUT,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.size = max(1, size)
        self.recycle_after = max(1, recycle_after)
        self.reply_timeout = reply_timeout
        self.start_timeout = start_timeout
        self.started = 0  # workers ever started (a test and the benchmark read it)
        self._idle: list[Worker] = []
        self._running: set[Worker] = set()  # idle or busy
        self._starting = 0
        self._closed = False
        self._changed = threading.Condition()

    def speak(
        self, text: str, voice: str, voice_file: str | None, wpm: int, amplitude: int
    ) -> Utterance:
        """Speak one utterance in a worker (blocks). EspeakError or WorkerLost on failure."""
        request = {
            "text": text,
            "voice": voice,
            "voice_file": voice_file,
            "wpm": wpm,
            "amplitude": amplitude,
        }
        worker = self._acquire()
        try:
            utterance = worker.speak(
                request, self.reply_timeout + REPLY_TIMEOUT_PER_CHAR * len(text)
            )
        except EspeakError:
            self._release(worker)
            raise
        except BaseException:
            self._discard(worker)
            raise
        self._release(worker)
        return utterance

    def pids(self) -> list[int]:
        """The process ids of the workers running now."""
        with self._changed:
            return sorted(w.pid for w in self._running)

    def close(self) -> None:
        """End every worker now: idle ones exit, busy ones are killed. The pool is unusable after."""
        with self._changed:
            self._closed = True
            idle, busy = list(self._idle), self._running - set(self._idle)
            self._idle.clear()
            self._running.clear()
            self._changed.notify_all()
        for worker in busy:
            worker.signal_kill()  # its thread sees WorkerLost and reaps it
        for worker in idle:
            worker.stop()

    # -- lending workers ----------------------------------------------------------
    def _acquire(self) -> Worker:
        with self._changed:
            while True:
                if self._closed:
                    raise WorkerLost("the offline engine was closed")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._running.discard(worker)
                    worker.kill()  # reap it
                if len(self._running) + self._starting < self.size:
                    self._starting += 1
                    break
                self._changed.wait()
        try:
            worker = Worker(self.start_timeout)
        except BaseException:
            with self._changed:
                self._starting -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._starting -= 1
            self.started += 1
            if not self._closed:
                self._running.add(worker)
                return worker
        worker.stop()
        raise WorkerLost("the offline engine was closed")

    def _release(self, worker: Worker) -> None:
        if worker.spoken >= self.recycle_after:
            try:
                worker.renew()
            except WorkerLost:
                self._discard(worker)
                return
        with self._changed:
            keep = not self._closed
            if keep:
                self._idle.append(worker)
            else:
                self._running.discard(worker)
            self._changed.notify()
        if not keep:
            worker.stop()

    def _discard(self, worker: Worker) -> None:
        with self._changed:
            self._running.discard(worker)
            self._changed.notify()
        worker.kill()
