"""Conformance: how far a registry implementation follows the rules (docs/model.md §1, §8).

``pushsim conform IMPLEMENTATION`` plays every story (:mod:`sim.conformance.stories`) and drives
the registry invariants through the protocol (:mod:`sim.conformance.invariants`) against any
registry model, then reports rule by rule whether it follows, deviates or is untested
(:mod:`sim.conformance.table`). :mod:`sim.conformance.command` is the command;
:mod:`sim.conformance.pytest_plugin` puts the same run into a team's pytest session.

Nothing is imported here, so that loading the pytest plugin costs nothing when it is not used:
import from the submodules (``from sim.conformance.command import conform``).
"""
