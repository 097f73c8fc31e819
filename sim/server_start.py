"""The first module the forkserver of :mod:`sim.workers` imports: from here on it ignores Ctrl-C.

A terminal sends Ctrl-C to every process of the foreground group, the forkserver included. The
server ignores it itself, but only once it has imported the rest of its preload list (pandas,
pushsim: a second or more), and a Ctrl-C in the meantime killed it with a traceback. Importing
this module first closes that gap; the workers forked from the server start with Ctrl-C ignored
too. The command that started the pool handles Ctrl-C and stops them.

Only the forkserver imports this module (it is named in its preload list, and nothing else
imports it): importing it anywhere else would make that process deaf to Ctrl-C.
"""

from __future__ import annotations

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
