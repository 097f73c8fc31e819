"""Tests of household sharding of one run (:mod:`sim.sharding`)."""
