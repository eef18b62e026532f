"""One tree of errors, rooted at DigestError.  Every message is one line in the library's terms.

    DigestError                     anything digest refuses or fails at
    ├── InputError                  bad input: an article, option, preset, lexicon, cover, source
    │   └── SourceError             a source (file, page, feed) could not be fetched or read
    ├── OutputError                 an episode's files could not be written
    ├── SynthesisError              a chunk could not be spoken, even after retries
    ├── EngineError                 one request to an engine failed (retryable or not)
    └── Mp3Error                    bytes that are not a stream of MPEG audio frames

Exit codes are the CLI's business (`digest.cli`), not the library's.
"""

from __future__ import annotations


class DigestError(Exception):
    """The root: catch this to catch every failure digest reports."""


class InputError(DigestError):
    """The input or an option is unusable; nothing was synthesized or written.

    `setting` names the option (a `BuildOptions` field) the user can change to
    get past it, e.g. "max_chars"; front ends turn it into a hint.
    """

    def __init__(self, message: str, *, setting: str | None = None):
        super().__init__(message)
        self.setting = setting


class SourceError(InputError):
    """A source (article file, web page, news feed) could not be fetched or read."""


class OutputError(DigestError):
    """An episode's files could not be written; earlier files are left as they were."""


class SynthesisError(DigestError):
    """A chunk could not be synthesized even after retries."""


class EngineError(DigestError):
    """One request to a speech engine failed.

    `retryable` tells the synthesis loop whether another attempt can help;
    `throttled` that the service asked the client to slow down (HTTP 429).
    """

    def __init__(self, message: str, *, retryable: bool, throttled: bool = False):
        super().__init__(message)
        self.retryable = retryable
        self.throttled = throttled


class Mp3Error(DigestError, ValueError):
    """The bytes are not a stream of MPEG Layer III frames in the expected format."""
