"""The published figures pushsim is validated against, each with its source, band and definition.

Every figure of docs/model.md §2–§3 that pushsim can measure is one :class:`Figure`: what it is,
its :class:`Source` or sources (cited exactly as docs/model.md "Sources" lists them), the published
value as a :class:`Band`, the run that measures it (a shipped scenario, or a closed-form world of
the test suite) and the metric of that run. The published values are the only numbers written
here; everything pushsim reports is measured in the run (:mod:`sim.validation.runs`).

Reading a published value as a band:

- a range ("46–49 %") is that closed range;
- an approximate value ("≈ 70 %") is read as ± 5 points, said so in the band's text;
- a bound ("< 10 %") is the half-open range up to it;
- a value given to a decimal ("5.8 days") is the interval it rounds from (5.75–5.85);
- a closed form has no band: its value is computed from the run's parameters, and the verdict
  asks whether pushsim's confidence interval holds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: days in a month (a year of 365.25 days over 12), for subscription ages
MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True)
class Source:
    """Where a figure comes from, as docs/model.md "Sources" lists it: ``*title* rest``.

    ``title`` is the italic title and ``rest`` what follows it on that line up to the colon
    (publisher and year, or "year not given"); :meth:`cite` puts them back together, verbatim.
    """

    title: str
    rest: str

    def cite(self) -> str:
        """The citation as docs/model.md "Sources" writes it (Markdown italics included)."""
        return f"*{self.title}*{self.rest}"


BATCH_2025 = Source("Batch 2025 benchmark", " — Batch, 2025")
NETCORE_2024 = Source("Netcore 2024", " (push benchmark) — Netcore, 2024")
CHROME_2021 = Source(
    '"Shhh...be quiet!" Reducing the Unwanted Interruptions of Notification Permission Prompts '
    "on Chrome",
    " (Chrome telemetry) — Google, 30th USENIX Security Symposium (USENIX Security 2021), 2021",
)
APPSFLYER = Source("AppsFlyer uninstall data", " — AppsFlyer, 2023–2024")
ADJUST = Source("Adjust reinstall data", " — Adjust (year not given)")
PUSHPAD_2018 = Source("Web push subscription age affects delivery rates", " — Pushpad, 2018")
APPLE = Source("Apple's documentation", " (APNs) — Apple (year not given)")
UNNAMED = Source("Published figures without a named source", "")
VENDORS = Source("Vendor figures", " for web opt-in per site visitor (1–15 %)")
#: the sources of docs/model.md "Sources" above; the ones below are not published figures
PUBLISHED = (
    BATCH_2025,
    NETCORE_2024,
    CHROME_2021,
    APPSFLYER,
    ADJUST,
    PUSHPAD_2018,
    APPLE,
    UNNAMED,
    VENDORS,
)
OS_RULE = Source("the OS rule itself", " (docs/model.md §3; not a published figure)")
#: the inactivity rules: stated in docs/model.md §2, which lists no source for them in "Sources"
PROVIDER_RULES = Source("docs/model.md §2", " (the provider rule; no entry in Sources)")
CLOSED_FORM = Source("closed form", " (Little's law), as tested in the suite")


@dataclass(frozen=True)
class Band:
    """A published value as an interval; ``None`` bounds are open-ended."""

    low: float | None
    high: float | None
    text: str
    low_open: bool = False
    high_open: bool = False

    @classmethod
    def range(cls, low: float, high: float, text: str) -> Band:
        """A closed range ``[low, high]``."""
        return cls(low, high, text)

    @classmethod
    def about(cls, value: float, text: str, points: float = 0.05) -> Band:
        """An approximate share ("≈ 70 %"), read as ``value`` ± ``points``."""
        return cls(value - points, value + points, text)

    @classmethod
    def point(cls, value: float, text: str) -> Band:
        """One exact value (a closed form)."""
        return cls(value, value, text)

    def holds(self, value: float) -> bool:
        """Whether ``value`` lies in the band."""
        return self.overlaps(value, value)

    def overlaps(self, low: float, high: float) -> bool:
        """Whether the interval ``[low, high]`` shares a point with the band."""
        if math.isnan(low) or math.isnan(high):
            return False
        if self.low is not None and (high < self.low or (self.low_open and high <= self.low)):
            return False
        return not (
            self.high is not None and (low > self.high or (self.high_open and low >= self.high))
        )


@dataclass(frozen=True)
class Figure:
    """One row of the report: a published figure, its ``sources``, and how pushsim measures it.

    ``run`` names the run (:data:`sim.validation.runs.RUNS`) and ``metric`` the value of it
    (:func:`sim.validation.runs.measure`). ``band`` is the published value; for a closed form it
    is None and ``expected`` names the metric holding the closed-form value computed from the
    run's parameters. ``min_days``: the run must be at least this long for the figure to mean
    anything (shorter runs, the small size, skip it and say ``why_full_size``). ``unit`` is how
    the values are shown: ``share``, ``days`` or ``count``; ``counted`` names what the
    denominator counts.
    """

    key: str
    name: str
    sources: tuple[Source, ...]
    band: Band | None
    definition: str
    run: str
    metric: str
    unit: str = "share"
    expected: str | None = None
    min_days: float = 0.0
    why_full_size: str = ""
    #: what the denominator counts, for the report's "n = …" (installs, campaigns, sends…)
    counted: str = ""


def _gesture_row(run: str) -> Figure:
    return Figure(
        key=f"web_gesture_opt_in_{run}",
        name="web opt-in per prompt shown after a user gesture",
        sources=(CHROME_2021,),
        band=Band.range(0.10, 0.21, "≈ 10–21 % per prompt (≈ 10 % desktop, ≈ 21 % Android)"),
        definition="opt_in_share (calibration's measurement, sim.calibration.moments) for web: "
        "launched, still-installed web installs with notifications allowed ÷ those installs, "
        "at the end of the run. pushsim shows the gesture prompt once per visitor, at the first "
        "visit, so per visitor = per prompt, except that a denied permission may be switched on "
        "later in the browser's settings (turn_on_per_day), which this share counts and a "
        "per-prompt grant rate does not",
        run=run,
        metric="opt_in_web",
        counted="web installs",
    )


FIGURES: tuple[Figure, ...] = (
    # -- opt-in by platform class (calibration's measurement) ------------------------------------
    Figure(
        key="ios_opt_in",
        name="push opt-in, iOS",
        sources=(BATCH_2025,),
        band=Band.range(0.45, 0.56, "45–56 %"),
        definition="opt_in_share for ios (sim.calibration.moments): launched, still-installed "
        "iOS installs with notifications allowed (granted or provisional) ÷ those installs, at "
        "the end of the run",
        run="baseline",
        metric="opt_in_ios",
        counted="iOS installs",
    ),
    Figure(
        key="android_13_opt_in",
        name="push opt-in, Android 13+",
        sources=(BATCH_2025, NETCORE_2024),
        band=Band.range(0.60, 0.67, "60–67 %"),
        definition="opt_in_share for android_13_plus (sim.calibration.moments): launched, "
        "still-installed Android 13+ installs with notifications allowed ÷ those installs, at "
        "the end of the run",
        run="android13_optin",
        metric="opt_in_android_13_plus",
        counted="Android 13+ installs",
    ),
    Figure(
        key="android_12_opt_in_netcore",
        name="push opt-in, Android before 13",
        sources=(NETCORE_2024,),
        band=Band.range(0.80, 0.90, "80–90 % opted in"),
        definition="opt_in_share for android_12_or_lower (sim.calibration.moments): launched, "
        "still-installed Android ≤ 12 installs with notifications allowed (implicit at install, "
        "then switched off and on in settings) ÷ those installs, at the end of the run",
        run="android13_optin",
        metric="opt_in_android_12_or_lower",
        counted="Android ≤ 12 installs",
    ),
    Figure(
        key="android_12_permission",
        name="permission, Android before 13 (implicit)",
        sources=(OS_RULE,),
        band=Band(0.95, 1.0, "≈ 100 % (read as ≥ 95 %)"),
        definition="the same opt_in_share for android_12_or_lower as the row above, against the "
        "OS rule (permission granted at install)",
        run="android13_optin",
        metric="opt_in_android_12_or_lower",
        counted="Android ≤ 12 installs",
    ),
    _gesture_row("baseline"),
    _gesture_row("web_push"),
    Figure(
        key="web_visitor_opt_in",
        name="web opt-in per site visitor",
        sources=(VENDORS,),
        band=Band.range(0.01, 0.15, "1–15 %"),
        definition="opt_in_share for web (sim.calibration.moments), per visitor: launched, "
        "still-installed web installs (a visitor's browser) with notifications allowed ÷ those "
        "installs, at the end of the run (switches in the browser's settings included)",
        run="web_push",
        metric="opt_in_web",
        counted="web installs",
    ),
    # -- uninstalls and reinstalls (calibration's measurement) -----------------------------------
    Figure(
        key="uninstalled_by_day1",
        name="installs uninstalled on day 0–1",
        sources=(APPSFLYER,),
        band=Band.range(0.23, 0.245, "half of the 46–49 % (23–24.5 %)"),
        definition="uninstalled_by_day1_share (sim.calibration.moments): installs (first "
        "installs and reinstalls, every platform) made at least 1 day before the end, uninstalled "
        "within 1 day ÷ those installs (AppsFlyer counts Android installs; the model's uninstalls "
        "do not depend on the platform)",
        run="baseline",
        metric="uninstalled_by_day1",
        counted="installs",
    ),
    Figure(
        key="uninstalled_by_day30",
        name="installs uninstalled within 30 days",
        sources=(APPSFLYER,),
        band=Band.range(0.46, 0.49, "46–49 % (Android installs)"),
        definition="uninstalled_by_day30_share (sim.calibration.moments): installs (first "
        "installs and reinstalls, every platform) made at least 30 days before the end, "
        "uninstalled within 30 days ÷ those installs (AppsFlyer counts Android installs; the "
        "model's uninstalls do not depend on the platform)",
        run="baseline",
        metric="uninstalled_by_day30",
        counted="installs",
    ),
    Figure(
        key="reinstall_share",
        name="uninstallers who reinstall",
        sources=(ADJUST,),
        band=Band.range(0.34, 0.40, "34–40 %"),
        definition="reinstall_share (sim.calibration.moments): uninstalls at least 90 days "
        "before the end followed by a reinstall on the same device within 90 days ÷ those "
        "uninstalls",
        run="baseline",
        metric="reinstall_share",
        counted="uninstalls",
    ),
    # -- engagement --------------------------------------------------------------------------------
    Figure(
        key="retention_day30",
        name="day-30 retention",
        sources=(UNNAMED,),
        band=Band.range(0.04, 0.07, "≈ 4–7 %"),
        definition="installs (first installs and reinstalls) made at least 31 days before the "
        "end with a session on day 30 after the install (30 ≤ age < 31 days) ÷ those installs",
        run="baseline",
        metric="retention_day30",
        counted="installs",
    ),
    Figure(
        key="last_open_to_uninstall",
        name="time from last open to uninstall (mean)",
        sources=(UNNAMED,),
        band=Band(5.75, 5.85, "5.8 days on average (5.75–5.85)"),
        definition="over uninstalls of installs that were launched, the mean of uninstall time − "
        "the install's last session (its launch included), in days",
        run="baseline",
        metric="last_open_to_uninstall_days",
        counted="uninstalls",
        unit="days",
    ),
    # -- Android 13 delivery per campaign ---------------------------------------------------------
    Figure(
        key="android_13_delivery",
        name="Android 13 delivery per campaign (delivered ÷ sent)",
        sources=(NETCORE_2024,),
        band=Band.range(0.49, 0.74, "49–74 % by vertical"),
        definition="per weekly campaign after the warm-up, sends to Android 13+ tokens shown on "
        "the device (to the targeted user, another user or nobody logged in) ÷ sends targeted; "
        "the mean over campaigns (their range follows). The campaign targets R9's default "
        "audience, foreground tokens: Android 13+ installs without permission hold a "
        "background-only token and are not sent to",
        run="android13_optin",
        metric="android_13_delivered_share",
        counted="campaigns",
    ),
    Figure(
        key="android_13_delivery_baseline",
        name="Android 13 delivery per campaign (delivered ÷ sent)",
        sources=(NETCORE_2024,),
        band=Band.range(0.49, 0.74, "49–74 % by vertical"),
        definition="as above, in the baseline audience (weekly campaigns)",
        run="baseline",
        metric="android_13_delivered_share",
        counted="campaigns",
    ),
    Figure(
        key="android_13_display",
        name="Android 13 shown to the targeted user ÷ targeted, per campaign",
        sources=(NETCORE_2024,),
        band=Band.range(0.49, 0.74, "49–74 % by vertical"),
        definition="pushsim's own figure, RunResult.campaign_display_shares('android_13_plus'): "
        "per weekly campaign after the warm-up, displayed to the targeted user ÷ targeted; the "
        "mean over campaigns. Narrower than Netcore's delivered ÷ sent (misdirected pushes are "
        "left out)",
        run="android13_optin",
        metric="android_13_display_share",
        counted="campaigns",
    ),
    # -- web subscription decay (Pushpad 2018) ----------------------------------------------------
    Figure(
        key="web_delivery_new",
        name="web push delivery, new subscriptions (age < 1 month)",
        sources=(PUSHPAD_2018,),
        band=Band.about(0.70, "≈ 70 % (read as 65–75 %)"),
        definition="campaign sends to web subscriptions aged < 1 month (age = send time − the "
        "subscription's creation) that answered 2xx: shown in the browser ÷ answered 2xx "
        "(Pushpad's delivery among subscriptions that still answer 2xx)",
        run="web_push",
        metric="web_delivery_month_0",
        counted="sends answered 2xx",
    ),
    Figure(
        key="web_delivery_3_months",
        name="web push delivery at 3 months (age 2.5–3.5 months)",
        sources=(PUSHPAD_2018,),
        band=Band.about(0.50, "≈ 50 % (read as 45–55 %)"),
        definition="as above, subscriptions aged 2.5–3.5 months at the send",
        run="web_push",
        metric="web_delivery_3_months",
        counted="sends answered 2xx",
        min_days=3.5 * MONTH_DAYS,
        why_full_size="needs subscriptions 3.5 months old: a run of at least 107 days",
    ),
    Figure(
        key="web_delivery_9_months",
        name="web push delivery at 9 months (age 8.5–9.5 months)",
        sources=(PUSHPAD_2018,),
        band=Band(0.0, 0.10, "< 10 %", high_open=True),
        definition="as above, subscriptions aged 8.5–9.5 months at the send",
        run="web_push",
        metric="web_delivery_9_months",
        counted="sends answered 2xx",
        min_days=9.5 * MONTH_DAYS,
        why_full_size="needs subscriptions 9.5 months old: a run of at least 289 days",
    ),
    Figure(
        key="web_delivery_3_months_relative",
        name="web push delivery at 3 months ÷ delivery when new",
        sources=(PUSHPAD_2018,),
        band=Band(0.45 / 0.75, 0.55 / 0.65, "≈ 50 % ÷ ≈ 70 % ≈ 0.71 (read as 0.60–0.85)"),
        definition="the 2.5–3.5-month share above ÷ the new-subscription share, per replication: "
        "the shape of the curve, which the model's subscription lifetime is fitted to "
        "(docs/model.md §2), whatever its level at age 0",
        run="web_push",
        metric="web_delivery_3_months_relative",
        min_days=3.5 * MONTH_DAYS,
        why_full_size="needs subscriptions 3.5 months old: a run of at least 107 days",
    ),
    Figure(
        key="web_delivery_9_months_relative",
        name="web push delivery at 9 months ÷ delivery when new",
        sources=(PUSHPAD_2018,),
        band=Band(0.0, 0.10 / 0.65, "< 10 % ÷ ≈ 70 % (read as < 0.15)", high_open=True),
        definition="the 8.5–9.5-month share above ÷ the new-subscription share, per replication",
        run="web_push",
        metric="web_delivery_9_months_relative",
        min_days=9.5 * MONTH_DAYS,
        why_full_size="needs subscriptions 9.5 months old: a run of at least 289 days",
    ),
    # -- provider inactivity rules ----------------------------------------------------------------
    Figure(
        key="fcm_inactivity_rejected",
        name="FCM: tokens 270 days without connection are refused (404)",
        sources=(PROVIDER_RULES,),
        band=Band.point(1.0, "all (the rule)"),
        definition="campaign answers from FCM to tokens whose last connection (issue or session, "
        "as the world saw it) is more than 270 days old: answered 404 ÷ all such answers",
        run="baseline",
        metric="fcm_over_rule_rejected_share",
        counted="answers",
        min_days=290.0,
        why_full_size="a token needs 270 days without a connection, then a campaign: a run of "
        "at least 290 days",
    ),
    Figure(
        key="fcm_inactivity_shortest",
        name="FCM: days without connection at an inactivity expiry (shortest)",
        sources=(PROVIDER_RULES,),
        band=Band(270.0, None, "≥ 270 days (expired after 270 days without connection)"),
        definition="over FCM answers 404 whose death the provider gives as inactivity, the "
        "shortest time since the token's last connection as the world saw it (the smallest "
        "over the run)",
        run="baseline",
        metric="fcm_expired_shortest_days",
        unit="days",
        min_days=290.0,
        why_full_size="a token needs 270 days without a connection, then a campaign: a run of "
        "at least 290 days",
    ),
    Figure(
        key="web_inactivity_rejected",
        name="Web Push: subscriptions 60 days without a session are refused (404/410)",
        sources=(PROVIDER_RULES,),
        band=Band.point(1.0, "all (the rule)"),
        definition="campaign answers from the Web Push services to subscriptions whose last "
        "connection (creation or web session) is more than 60 days old: answered 404/410 ÷ all "
        "such answers",
        run="web_push",
        metric="webpush_over_rule_rejected_share",
        counted="answers",
        min_days=80.0,
    ),
    Figure(
        key="web_inactivity_shortest",
        name="Web Push: days without a session at an inactivity expiry (shortest)",
        sources=(PROVIDER_RULES,),
        band=Band(60.0, None, "≥ 60 days (expired after 60 days without a session)"),
        definition="over Web Push answers 404/410 whose death the provider gives as inactivity, "
        "the shortest time since the subscription's last connection as the world saw it",
        run="web_push",
        metric="webpush_expired_shortest_days",
        unit="days",
        min_days=80.0,
    ),
    # -- uninstall detection lags ------------------------------------------------------------------
    Figure(
        key="apns_detection_median",
        name="APNs uninstall detection (median)",
        sources=(UNNAMED, APPLE),
        band=Band.range(9.0, 11.0, "9–11 days observed"),
        definition="iOS uninstalls after the warm-up, uninstall → the registry removes the "
        "token, with nightly uninstall-tracking probes (a send every night, so the wait for the "
        "next send after the provider's first 410 adds at most a day): the Kaplan–Meier median, "
        "open ones censored at the end",
        run="uninstall_tracking",
        metric="apns_detection_median_days",
        counted="uninstalls followed",
        unit="days",
    ),
    Figure(
        key="apns_detection_tail",
        name="APNs uninstalls still undetected 30 days on",
        sources=(APPLE,),
        band=Band(0.0, 0.5, "sometimes > 30 days (read as > 0 and < 50 %)", low_open=True),
        definition="the same Kaplan–Meier curve at 30 days: the share of iOS uninstalls the "
        "registry had not noticed 30 days after them, despite nightly probes",
        run="uninstall_tracking",
        metric="apns_undetected_30_days",
    ),
    Figure(
        key="fcm_detection_median",
        name="FCM uninstall detection (median)",
        sources=(UNNAMED,),
        band=Band.range(1.0, 2.0, "1–2 days observed"),
        definition="Android uninstalls after the warm-up, uninstall → the registry removes the "
        "token, with nightly probes (adding at most a day, half a day on average, to the "
        "provider's lag): the Kaplan–Meier median",
        run="uninstall_tracking",
        metric="fcm_detection_median_days",
        counted="uninstalls followed",
        unit="days",
    ),
    # -- closed forms ------------------------------------------------------------------------------
    Figure(
        key="closed_dead_periodic",
        name="dead tokens held, campaigns every T days, no lag: μN·T/2",
        sources=(CLOSED_FORM,),
        band=None,
        definition="Android ≤ 12 only, N devices with steady installs and uninstalls at rate μ, "
        "no reinstall or rotation, campaigns every T days, reports at once: the time-average of "
        "the registry's dead tokens after the warm-up (tests/world/test_simulation.py)",
        run="closed_periodic",
        metric="dead_mean",
        counted="samples",
        unit="count",
        expected="dead_expected",
    ),
    Figure(
        key="closed_dead_poisson",
        name="dead tokens held, Poisson campaigns at rate λ, no lag: μN/λ",
        sources=(CLOSED_FORM,),
        band=None,
        definition="the same world with campaigns at Poisson times (rate λ): the mean time since "
        "the last campaign is 1/λ, so dead tokens average μN/λ",
        run="closed_poisson",
        metric="dead_mean",
        counted="samples",
        unit="count",
        expected="dead_expected",
    ),
    Figure(
        key="closed_stale_lagged",
        name="stale tokens held, FCM lag L, campaigns every T days: μN·(E[L] + T/2)",
        sources=(CLOSED_FORM,),
        band=None,
        definition="the periodic world with the default FCM lag drawn per token: dead + zombie "
        "tokens average μN·(E[L] + T/2) (Little's law for the zombies)",
        run="closed_lagged",
        metric="stale_mean",
        counted="samples",
        unit="count",
        expected="stale_expected",
    ),
    Figure(
        key="closed_rotation_latency",
        name="rotation → re-registration, Poisson sessions at rate s: mean 1/s",
        sources=(CLOSED_FORM,),
        band=None,
        definition="iOS devices with sessions at rate s and provider rotations at rate r, "
        "nothing else: the mean latency of rotations that started 30 days or more before the "
        "end (tests/metrics/test_latency.py)",
        run="closed_rotation",
        metric="rotation_mean_days",
        counted="rotations",
        unit="days",
        expected="rotation_expected_days",
    ),
)


def figure(key: str) -> Figure:
    """The figure with ``key``."""
    for candidate in FIGURES:
        if candidate.key == key:
            return candidate
    raise KeyError(key)
