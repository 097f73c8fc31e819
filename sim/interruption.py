"""How the command line stops early: Ctrl-C, ``kill``, and a reader that closed the pipe.

SIGINT (Ctrl-C) and SIGTERM (``kill PID``, a batch scheduler's stop) become one exception,
:class:`Interrupted`, raised once in the main thread by :func:`signals_handled`: the ``finally``
blocks run (a half-written results folder is removed, worker processes are ended, finished
experiment runs stay saved) and the command exits ``128 + signal`` — 130 for SIGINT, 143 for
SIGTERM — with a message saying which (:func:`stopped`, :func:`exit_code`). Further signals
during that cleanup are ignored, so it runs to its end; a step that cannot stop half-way holds
the signal back until it is done (:func:`deferred`).

A reader that goes away (``pushsim story … | head -1``) shows as a :class:`BrokenPipeError` on
stdout; :func:`reader_gone` tells it from other broken pipes, and :func:`silence_stdout` keeps the
exit-time flush from failing again, so the command ends quietly with :data:`EXIT_READER_GONE`.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import TextIO

#: the signals that stop a command cleanly
SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: the exit code when stdout's reader went away: as if killed by SIGPIPE, as ``cat`` would be
EXIT_READER_GONE = 128 + signal.SIGPIPE


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; ``signal_number`` says which.

    A subclass of KeyboardInterrupt, so that everything that cleans up after Ctrl-C (and
    ``except KeyboardInterrupt`` handlers) does the same after SIGTERM. Not KeyboardInterrupt
    itself: CPython 3.11 marks a KeyboardInterrupt that leaves code compiled from a string as
    "unhandled" even when it is caught later (dataclasses and named tuples make their methods that
    way, at import), and ``python -m`` then ends the process by SIGINT instead of exit 130.
    """

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number


def signal_of(stop: BaseException) -> int:
    """The signal behind ``stop``: its own for :class:`Interrupted`, else SIGINT (Ctrl-C)."""
    if isinstance(stop, Interrupted):
        return stop.signal_number
    return int(signal.SIGINT)


def exit_code(stop: BaseException) -> int:
    """The exit code after ``stop``: 128 + the signal number (130 Ctrl-C, 143 SIGTERM)."""
    return 128 + signal_of(stop)


def stopped(stop: BaseException) -> str:
    """``"terminated"`` after SIGTERM, ``"interrupted"`` after Ctrl-C, for messages."""
    return "terminated" if signal_of(stop) == signal.SIGTERM else "interrupted"


@dataclass
class _Stop:
    """What the handler of :func:`signals_handled` knows: the signal received, and when to raise."""

    #: the first stopping signal received, if any
    signal_number: int | None = None
    #: whether :class:`Interrupted` was raised for it
    raised: bool = False
    #: how many :func:`deferred` blocks are open
    deferring: int = 0

    def interrupt(self) -> None:
        """Raise :class:`Interrupted` for the signal received, once, unless deferring."""
        if self.signal_number is not None and not self.raised and not self.deferring:
            self.raised = True
            raise Interrupted(self.signal_number)


#: the state of the innermost :func:`signals_handled` block (outside one: never interrupts)
_stop = _Stop(raised=True)


@contextlib.contextmanager
def signals_handled() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`Interrupted`, once.

    The first signal raises (in a :func:`deferred` block: when it ends); any later one is
    ignored, so that the cleanup it starts runs to its end. Signals ignored when the block starts
    (``nohup``, a background job of a script) stay ignored. If no signal came, the previous
    handlers are back after the block; if one came, the process is stopping and further signals
    stay ignored until it exits. Outside the main thread (where Python cannot handle signals)
    this does nothing.
    """
    global _stop
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outer, stop = _stop, _Stop()

    def handle(number: int, frame: FrameType | None) -> None:
        if stop.signal_number is None:  # later ones: already stopping, let the cleanup finish
            stop.signal_number = number
            stop.interrupt()

    previous = {
        number: signal.signal(number, handle)
        for number in SIGNALS
        if signal.getsignal(number) is not signal.SIG_IGN
    }
    _stop = stop
    try:
        yield
    finally:
        _stop = outer
        if stop.signal_number is None:
            for number, handler in previous.items():
                signal.signal(number, handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block, a stopping signal waits: :class:`Interrupted` comes when it ends.

    For a step that cannot be abandoned half-way, such as starting a Dask cluster (one stopped in
    the middle of its start cannot be closed, and complains at exit); keep such steps short.
    Outside :func:`signals_handled`, or in another thread than the main one, it changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stop = _stop
    stop.deferring += 1
    try:
        yield
    except BaseException:
        # what the step raised may follow from the signal (a server it starts interrupted too):
        # the signal, what was asked for, wins, with the error as its context
        stop.deferring -= 1
        stop.interrupt()
        raise
    stop.deferring -= 1
    stop.interrupt()


def reader_gone(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (stdout by default) is a pipe whose reader has closed it."""
    stream = sys.stdout if stream is None else stream
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if not hasattr(select, "poll"):  # pragma: no cover - Windows: take the error's word for it
        return True
    poller = select.poll()
    poller.register(descriptor, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def silence_stdout() -> None:
    """Point stdout at the null device, so that what is still buffered is dropped quietly."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


def tell(message: str) -> None:
    """Print ``message`` on stderr; a stderr whose reader went away too is not an error."""
    with contextlib.suppress(OSError):
        print(message, file=sys.stderr, flush=True)
