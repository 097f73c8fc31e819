"""``pushsim validation``: the model against the published figures of docs/model.md §2–§3.

The package runs the shipped scenarios that match each published figure (and the closed-form
worlds of the test suite), measures each figure as its source defines it, over independent
replications, and writes a Markdown report: figure, source, published value or band, pushsim's
value with its 95 % confidence interval, and the verdict.

- :mod:`sim.validation.figures`: the published figures, their sources and bands, and what each
  row measures;
- :mod:`sim.validation.observers`: listeners attached to a world while it runs (token ages and
  connections, web delivery by subscription age, the inactivity rules, retention, last open);
- :mod:`sim.validation.closed_forms`: the worlds whose steady states have a closed form;
- :mod:`sim.validation.runs`: the sizes, the runs to make and the measurement of one run;
- :mod:`sim.validation.execute`: the replications, in worker processes;
- :mod:`sim.validation.rows`: intervals over replications and verdicts;
- :mod:`sim.validation.report`: the Markdown page;
- :mod:`sim.validation.output`: writing it without overwriting a file pushsim did not write;
- :mod:`sim.validation.command`: the command line.
"""
