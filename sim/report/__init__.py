"""Reports of a run: PNG plots (:mod:`sim.report.plots`), a markdown page (:mod:`.markdown`)."""

from sim.report.markdown import render_report
from sim.report.plots import (
    ANDROID_PLOT,
    PLOT_FILES,
    plot_android_prompt,
    plot_funnel,
    plot_reachability,
    plot_send_outcomes,
    plot_stale_tokens,
    plot_uninstall_latency,
    write_plots,
)

__all__ = [
    "ANDROID_PLOT",
    "PLOT_FILES",
    "plot_android_prompt",
    "plot_funnel",
    "plot_reachability",
    "plot_send_outcomes",
    "plot_stale_tokens",
    "plot_uninstall_latency",
    "render_report",
    "write_plots",
]
