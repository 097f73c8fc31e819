"""``python -m sim.experiment``: the ``sweep`` and ``compare`` commands on their own."""

from sim.experiment.commands import main

raise SystemExit(main())
