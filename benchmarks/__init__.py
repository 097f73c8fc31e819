"""The benchmark harness of pushsim: ``python -m benchmarks.bench`` (or ``make bench``).

:mod:`benchmarks.bench` runs every measurement and writes ``results.json``, ``results.md`` and
``scaling.png``; :mod:`benchmarks.child` is what runs in the fresh subprocess of each measured run;
:mod:`benchmarks.report` turns the measurements into the table, the plot and the target verdicts.
"""
