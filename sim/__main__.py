"""``python -m sim``: the pushsim command line (signals handled from the start, see sim.launch)."""

from sim.launch import main

raise SystemExit(main())
