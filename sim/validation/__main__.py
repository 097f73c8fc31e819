"""``python -m sim.validation``: the ``pushsim validation`` command on its own."""

from sim.validation.command import main

raise SystemExit(main())
