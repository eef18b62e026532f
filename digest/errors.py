"""The two kinds of failure a user can see, and the exit code each one gets."""


class DigestError(Exception):
    """Bad input or usage: the message is one line, meant for the user (exit code 2)."""

    exit_code = 2


class SynthesisFailed(DigestError):
    """A chunk could not be synthesized even after retries (exit code 1)."""

    exit_code = 1
