"""``python -m sim``: the pushsim command line."""

from sim.cli import main

raise SystemExit(main())
