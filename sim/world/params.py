"""Parameters of a simulated world, with defaults from the published figures (docs/model.md §3).

Rates are per day (``_per_day``), durations in days (``_days``), shares in [0, 1] (``_share``).
Every number that comes from a published figure says so in its description; the others are
modelling choices, named as such. The models are pydantic models: they validate on construction,
forbid unknown keys, and give scenario files their schema (``pushsim schema``).

Every key is bounded to what the model can mean, each bound with its reason below: durations to a
century (:data:`MAX_DAYS`), a person's or device's events to what a person can do in a day, the
population to the largest audiences. These bounds are about meaning, not about this machine's
memory (that estimate is :mod:`sim.capacity`). Every constraint the world's parts enforce when they
are built (:class:`~sim.providers.ProviderConfig`, :class:`~sim.registry.RegistryPolicy`, the
behaviour's uninstall curve) is also here, so that a scenario that validates also runs.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

from sim.providers.config import (
    APNS_UNINSTALL_LAG,
    FCM_UNINSTALL_LAG,
    WEB_SUBSCRIPTION_LIFETIME,
    FixedLag,
    LognormalLag,
    UniformLag,
    UninstallLag,
    WeibullLifetime,
)
from sim.registry.policy import RegistryPolicy

#: The longest duration a key may hold, in days: a century. No app, token or person in the model
#: lasts longer, and runs are at most this long (``measurement.days``), so a longer duration could
#: only mean "never", which this already means.
MAX_DAYS = 36_500.0
#: The most often a person or device does any one occasional thing (an update, a logout, a
#: settings change, a user switch...): 100 times a day, every quarter of an hour around the clock.
MAX_EVENTS_PER_DAY = 100.0
#: The most sessions a day at the median or while dormant: 500, one every three minutes around the
#: clock, far above the heaviest users of any app.
MAX_SESSIONS_PER_DAY = 500.0
#: The most devices in a world: 100 million, the audience of the largest apps. (Whether this
#: machine can run a world that size is :mod:`sim.capacity`'s question, not the schema's.)
MAX_DEVICES = 100_000_000
#: The most new people a day: a million, 1 % of the largest world every day.
MAX_ARRIVALS_PER_DAY = 1_000_000.0
#: The shortest interval between campaigns: an hour. A campaign walks the whole audience; sending
#: more often than hourly is not a campaign schedule.
MIN_CAMPAIGN_EVERY_DAYS = 1 / 24
#: The most campaigns a day of a Poisson schedule, on average: 24, hourly, for the same reason.
MAX_CAMPAIGNS_PER_DAY = 24.0
#: The longest the SDK holds calls before flushing them: a day. It batches for seconds; a delay of
#: more than a day is a lost batch, which the model does not describe.
MAX_SDK_FLUSH_DELAY_DAYS = 1.0
#: The widest log-normal spread of session rates: 3. The top 1 % of people then open the app
#: about 1,000 times as often as the median (e^(3 × 2.33)); wider describes no audience.
MAX_SESSION_RATE_LOG_SIGMA = 3.0
#: The most people a shared device has: the largest household (4 people, sim.world.population).
MAX_SHARERS = 4

Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
#: an occasional event of one person or device, per day
Rate = Annotated[float, Field(ge=0.0, le=MAX_EVENTS_PER_DAY, allow_inf_nan=False)]
#: sessions of one person per day
SessionRate = Annotated[float, Field(ge=0.0, le=MAX_SESSIONS_PER_DAY, allow_inf_nan=False)]
Days = Annotated[float, Field(ge=0.0, le=MAX_DAYS, allow_inf_nan=False)]
#: a duration that must be positive (an expiry after no time at all would kill every token at once)
PositiveDays = Annotated[float, Field(gt=0.0, le=MAX_DAYS, allow_inf_nan=False)]
Window = Annotated[
    tuple[Days, Days], BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v)
]
DeviceKindName = Literal["ios", "android_legacy", "android_13", "web"]
#: default device mix (modelling choice)
DEFAULT_MIX: dict[DeviceKindName, float] = {
    "ios": 0.40,
    "android_legacy": 0.15,
    "android_13": 0.35,
    "web": 0.10,
}


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _ordered(window: tuple[float, float]) -> tuple[float, float]:
    low, high = window
    if low > high:
        raise ValueError(f"must be [low, high] with low <= high, got [{low}, {high}]")
    return window


class PopulationParams(_Params):
    """Who owns which device, and who shares it."""

    devices: int = Field(
        10_000,
        ge=0,
        le=MAX_DEVICES,
        description="devices at the start of the run (at most 100 million: the largest audiences)",
    )
    platform_share: dict[DeviceKindName, Share] = Field(
        default_factory=lambda: dict(DEFAULT_MIX),
        description="device mix by kind (modelling choice); must sum to 1",
    )
    web_safari_share: Share = Field(
        0.2, description="web devices on Safari, whose revoked subscriptions answer 200"
    )
    shared_device_share: Share = Field(
        0.1, description="devices shared within the household (family tablet, lent phone)"
    )
    sharers_per_shared_device: int = Field(
        2,
        ge=2,
        le=MAX_SHARERS,
        description="people per shared device (at most 4: the largest household)",
    )
    login_share: Share = Field(0.6, description="installs whose user logs in (else anonymous)")
    arrivals_per_day: float = Field(
        0.0,
        ge=0.0,
        le=MAX_ARRIVALS_PER_DAY,
        allow_inf_nan=False,
        description="new people installing per day, one device each (modelling choice; at most "
        "a million a day)",
    )

    @field_validator("platform_share")
    @classmethod
    def _sums_to_one(cls, value: dict[str, float]) -> dict[str, float]:
        if not value or not math.isclose(sum(value.values()), 1.0, abs_tol=1e-9):
            raise ValueError(f"shares must sum to 1, got {sum(value.values()):g}")
        return value


class PermissionParams(_Params):
    """Answers to the permission prompt and later changes in OS settings."""

    ios_opt_in_share: Share = Field(0.50, description="iOS opt-in: 45–56 % (docs/model.md §3)")
    ios_strategy: Literal["prompt", "provisional"] = Field(
        "prompt", description="standard alert, or provisional (quiet, counts as foreground)"
    )
    android_13_opt_in_share: Share = Field(
        0.63, description="Android 13+ opt-in: 60–67 % (docs/model.md §3)"
    )
    android_13_dismiss_share: Share = Field(
        0.3, description="non-grants that dismiss (asked again) rather than deny (modelling)"
    )
    web_prompt: Literal["gesture", "page_load"] = Field(
        "gesture", description="web prompt on a user gesture, or on page load (mostly lost)"
    )
    web_gesture_opt_in_share: Share = Field(
        0.08, description="web opt-in on a gesture: 1–15 % (docs/model.md §3)"
    )
    web_page_load_opt_in_share: Share = Field(
        0.03, description="web opt-in on page load: ≈ 1–5 % (docs/model.md §3)"
    )
    turn_off_per_day: Rate = Field(
        1 / 365, description="notifications turned off in settings (modelling choice)"
    )
    turn_on_per_day: Rate = Field(
        1 / 730, description="turned back on in settings (modelling choice)"
    )


class BehaviourParams(_Params):
    """Sessions, dormancy, uninstalls, reinstalls and the events that rotate tokens."""

    session_rate_per_day: SessionRate = Field(
        0.7, description="median session rate while active (at most 500 a day)"
    )
    session_rate_log_sigma: float = Field(
        1.0,
        ge=0.0,
        le=MAX_SESSION_RATE_LOG_SIGMA,
        allow_inf_nan=False,
        description="log-normal spread of session rates (at most 3: the top 1 % then sessions "
        "~1,000× as often as the median)",
    )
    active_mean_days: Days = Field(
        15.3,
        description="mean active period before going dormant; gives day-30 retention ≈ 7 % "
        "(docs/model.md §3)",
    )
    dormant_session_rate_per_day: SessionRate = Field(1 / 90, description="sessions once dormant")
    uninstall_by_day1_share: Share = Field(
        0.25, description="uninstalled on day 0–1: half of the 30-day half (docs/model.md §3)"
    )
    uninstall_by_day30_share: Share = Field(
        0.50, description="uninstalled within 30 days: about half (docs/model.md §3)"
    )
    uninstall_later_per_day: Rate = Field(0.002, description="hazard after day 30 (modelling)")
    last_open_before_uninstall_days: Days = Field(
        5.8, description="mean days from last open to uninstall: 5.8 (docs/model.md §3)"
    )
    reinstall_share: Share = Field(
        0.37, description="uninstallers who reinstall: 34–40 % (docs/model.md §3)"
    )
    reinstall_delay_mean_days: Days = Field(20.0, description="uninstall → reinstall (modelling)")
    first_launch_delay_mean_days: Days = Field(0.05, description="install → first launch")
    reinstall_launch_delay_mean_days: Days = Field(1.0, description="reinstall → first launch")
    reinstall_never_launched_share: Share = Field(0.1, description="reinstalls never opened")
    app_update_per_day: Rate = Field(1 / 30, description="app updates (modelling choice)")
    app_update_rotation_share: Share = Field(0.05, description="updates that rotate the token")
    os_reinstall_per_day: Rate = Field(1 / 3650, description="OS reinstalls (token changes)")
    provider_rotation_per_day: Rate = Field(1 / 730, description="provider-side rotations")
    device_replacement_per_day: Rate = Field(1 / 900, description="device replaced")
    restore_share: Share = Field(0.7, description="replacements restored from a backup")
    user_switch_per_day: Rate = Field(0.1, description="shared devices: another sharer logs in")
    logout_per_day: Rate = Field(1 / 365, description="logouts with no new login")

    @model_validator(mode="after")
    def _uninstall_shares(self) -> BehaviourParams:
        if self.uninstall_by_day1_share > self.uninstall_by_day30_share:
            raise ValueError("uninstall_by_day1_share cannot exceed uninstall_by_day30_share")
        return self

    @field_validator("uninstall_by_day30_share")
    @classmethod
    def _some_survive_day30(cls, by_day30: float, info: ValidationInfo) -> float:
        by_day1 = info.data.get("uninstall_by_day1_share")
        if by_day30 == 1.0 and by_day1 is not None and by_day1 < 1.0:
            # the uninstall hazard is constant from day 1 to day 30: no constant hazard takes the
            # survivors of day 1 to none at day 30 (sim.world.behaviour.uninstall_time)
            raise ValueError(
                f"can be 1 only if uninstall_by_day1_share is 1 too (it is {by_day1:g}): the "
                "uninstall rate is constant from day 1 to day 30, and no constant rate leaves "
                "nobody at day 30"
            )
        return by_day30


#: The widest spread of a log-normal provider lag (``sigma``, the standard deviation of the log of
#: the lag above its shift): 3. The 99th percentile of that part of the lag is then e^(3 × 2.33)
#: ≈ 1,100 times its median; no provider schedule seen is that spread (the APNs default, 1.35,
#: puts it at 23 times).
MAX_LAG_LOG_SIGMA = 3.0
#: The range of a Weibull lifetime's shape: 0.2 to 20. Below 0.2 the mean lifetime is more than
#: 700 times the median (a few subscriptions living for centuries carry it), which no population
#: of subscriptions shows; above 20 every subscription dies within about ±7 % of the same age
#: (coefficient of variation 0.06): a fixed expiry, which ``web_inactivity_days`` describes.
MIN_WEIBULL_SHAPE = 0.2
MAX_WEIBULL_SHAPE = 20.0

LagSigma = Annotated[float, Field(ge=0.0, le=MAX_LAG_LOG_SIGMA, allow_inf_nan=False)]
WeibullShape = Annotated[
    float, Field(ge=MIN_WEIBULL_SHAPE, le=MAX_WEIBULL_SHAPE, allow_inf_nan=False)
]


def _window_or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    return None if value is None else handler(value)


#: a [low, high] window that may be left out (None, the default; TOML has no null). Declared as a
#: window, so that its schema and bounds are a window's.
OptionalWindow = Annotated[Window, WrapValidator(_window_or_none)]

#: the parameters each lag family takes: (required, optional)
_LAG_PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "lognormal": (("median_days", "sigma"), ("shift_days",)),
    "uniform": (("low_days", "high_days"), ()),
    "fixed": (("days",), ()),
}
#: the parameters each web-invalidation family takes: (required, optional)
_INVALIDATION_PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "weibull": (("scale_days", "shape"), ("answer",)),
    "none": ((), ()),
}


def _check_parameters(
    model: LagParams | WebInvalidationParams,
    families: dict[str, tuple[tuple[str, ...], tuple[str, ...]]],
    what: str,
) -> None:
    """Refuse a missing parameter of the chosen family, or one that belongs to another family."""
    family = model.distribution
    required, optional = families[family]
    given = {name for name in type(model).model_fields if getattr(model, name) is not None}
    missing = [name for name in required if name not in given]
    foreign = [name for name in type(model).model_fields if name in given - {"distribution"}]
    foreign = [name for name in foreign if name not in required and name not in optional]
    takes = ", ".join([*required, *(f"{name} (optional)" for name in optional)]) or "no other key"
    if missing or foreign:
        problem = []
        if missing:
            problem.append(f"missing {', '.join(missing)}")
        if foreign:
            problem.append(f"does not take {', '.join(foreign)}")
        raise ValueError(f'a "{family}" {what} takes {takes}: {"; ".join(problem)}')


class LagParams(_Params):
    """A provider's lag from an uninstall to its first 410/404, drawn per token (docs/model.md §2).

    ``distribution`` names the family; the other keys are its parameters, and each family takes
    its own and only those:

    - ``"lognormal"``: ``median_days`` and ``sigma``, optionally ``shift_days`` (0 if left out).
      A shifted log-normal: lag = shift_days + e^N, N normal with mean ln(median_days −
      shift_days) and standard deviation ``sigma``. No lag is shorter than ``shift_days``, half
      are shorter than ``median_days``, and ``sigma`` sets the tail (mean: shift_days +
      (median_days − shift_days)·e^(sigma²/2)).
    - ``"uniform"``: ``low_days`` ≤ ``high_days``; uniform in between.
    - ``"fixed"``: ``days``, the same lag for every token (deterministic).
    """

    distribution: Literal["lognormal", "uniform", "fixed"] = Field(
        description='"lognormal" (median_days, sigma, shift_days), "uniform" (low_days, '
        'high_days) or "fixed" (days)'
    )
    median_days: Days | None = Field(
        None, description="lognormal: median lag, greater than shift_days (at most a century)"
    )
    sigma: LagSigma | None = Field(
        None,
        description="lognormal: spread of the log of the lag above shift_days (0–3; at 3 the "
        "99th percentile is ~1,100× the median)",
    )
    shift_days: Days | None = Field(
        None, description="lognormal: the shortest lag, 0 if left out (at most a century)"
    )
    low_days: Days | None = Field(None, description="uniform: shortest lag (at most a century)")
    high_days: Days | None = Field(
        None, description="uniform: longest lag, >= low_days (at most a century)"
    )
    days: Days | None = Field(None, description="fixed: the lag of every token (at most a century)")

    @model_validator(mode="after")
    def _parameters_of_the_family(self) -> LagParams:
        _check_parameters(self, _LAG_PARAMETERS, "lag")
        if self.distribution == "lognormal":
            assert self.median_days is not None
            shift = self.shift_days or 0.0
            if not self.median_days > shift:
                raise ValueError(
                    f"median_days ({self.median_days:g}) must be greater than shift_days "
                    f"({shift:g}): the lag is shift_days plus a log-normal part whose median is "
                    "median_days − shift_days"
                )
        if self.distribution == "uniform":
            assert self.low_days is not None and self.high_days is not None
            if self.low_days > self.high_days:
                raise ValueError(
                    f"low_days ({self.low_days:g}) must be <= high_days ({self.high_days:g})"
                )
        return self

    @classmethod
    def of(cls, lag: UninstallLag) -> LagParams:
        """The parameters of a lag object (the inverse of :meth:`lag`)."""
        if isinstance(lag, LognormalLag):
            return cls(
                distribution="lognormal",
                median_days=lag.median_days,
                sigma=lag.sigma,
                shift_days=lag.shift_days,
            )
        if isinstance(lag, UniformLag):
            return cls(distribution="uniform", low_days=lag.low_days, high_days=lag.high_days)
        return cls(distribution="fixed", days=lag.days)

    def lag(self) -> UninstallLag:
        """The provider model's lag object."""
        if self.distribution == "lognormal":
            assert self.median_days is not None and self.sigma is not None
            return LognormalLag(self.median_days, self.sigma, self.shift_days or 0.0)
        if self.distribution == "uniform":
            assert self.low_days is not None and self.high_days is not None
            return UniformLag(self.low_days, self.high_days)
        assert self.days is not None
        return FixedLag(self.days)


class WebInvalidationParams(_Params):
    """The silent death of web subscriptions (docs/model.md §2), drawn when each is made.

    Browsers drop subscriptions when site data is cleared or the browser is reinstalled, and push
    services expire those of browsers no longer used; nothing tells the site. What this hazard
    represents is that loss *relative to a new subscription*: the default Weibull is fitted to
    Pushpad's curve (2018: delivery ≈ 70 % for new subscriptions, ≈ 50 % at 3 months, < 10 % at
    9 months) divided by its value at age 0, S(3 months) = 50/70 and S(9 months) = 7/70, which
    gives shape 1.75, scale 170 days (:meth:`~sim.providers.WeibullLifetime.through`; the fit is
    recomputed in ``tests/providers/test_lags.py``). The 30 % missing at age 0 (offline browsers,
    prompts never shown, opt-outs) is not part of it, and the model's uninstalls, rotations,
    revocations and 60-day inactivity expiry come on top.

    - ``"weibull"``: ``scale_days`` and ``shape`` (survival e^-(t/scale_days)^shape), optionally
      ``answer``: ``"accepted"`` (default: the push service keeps answering 201, never
      delivering, until the inactivity expiry — the stale subscriptions Pushpad counted: its
      figures are delivery among subscriptions that still answer 2xx, the 404/410 ones being
      deleted at once) or ``"gone"`` (it answers 410 from the death on).
    - ``"none"``: no silent death. ``web_invalidation = "none"`` is short for
      ``{ distribution = "none" }``.
    """

    distribution: Literal["weibull", "none"] = Field(
        description='"weibull" (scale_days, shape, answer) or "none"'
    )
    scale_days: PositiveDays | None = Field(
        None, description="weibull: the age at which 63 % have died, > 0 (at most a century)"
    )
    shape: WeibullShape | None = Field(
        None,
        description="weibull: > 1 old subscriptions die faster, 1 a constant hazard (0.2–20: "
        "outside, a few lifetimes of centuries or one fixed age)",
    )
    answer: Literal["gone", "accepted"] | None = Field(
        None,
        description='weibull: "accepted" (default: 201, never delivered, until the inactivity '
        'expiry; what Pushpad measured) or "gone" (410 from the death on)',
    )

    @model_validator(mode="after")
    def _parameters_of_the_family(self) -> WebInvalidationParams:
        _check_parameters(self, _INVALIDATION_PARAMETERS, "web_invalidation")
        return self

    def lifetime(self) -> WeibullLifetime | None:
        """The provider model's lifetime object (None: no silent death)."""
        if self.distribution == "none":
            return None
        assert self.scale_days is not None and self.shape is not None
        return WeibullLifetime(self.scale_days, self.shape)

    @property
    def reported(self) -> bool:
        """Whether sends to a silently dead subscription are answered 410."""
        return self.answer == "gone"


def _none_or_table(value: Any) -> Any:
    """``"none"`` → ``{distribution = "none"}``; any other text is refused with the choices."""
    if isinstance(value, str):
        if value == "none":
            return {"distribution": "none"}
        raise ValueError(
            'must be "none" or a table { distribution = "weibull", scale_days = …, shape = … }'
        )
    if isinstance(value, dict) and value.get("distribution") == "weibull" and "answer" not in value:
        # the default answer written out, so that the resolved scenario (and its hash, and a
        # comparison's key-by-key diff) is the same whether or not the file names it
        return {**value, "answer": "accepted"}
    return value


#: the defaults, from the provider models' (docs/model.md §2; sim.providers.config)
DEFAULT_APNS_LAG = LagParams.of(APNS_UNINSTALL_LAG)
DEFAULT_FCM_LAG = LagParams.of(FCM_UNINSTALL_LAG)
DEFAULT_WEB_INVALIDATION = WebInvalidationParams(
    distribution="weibull",
    scale_days=WEB_SUBSCRIPTION_LIFETIME.scale_days,
    shape=WEB_SUBSCRIPTION_LIFETIME.shape,
    answer="accepted",
)


class ProviderParams(_Params):
    """Provider behaviour (docs/model.md §2).

    Each uninstall lag has two forms: ``apns_lag`` / ``fcm_lag``, a distribution table
    (:class:`LagParams`), and the older ``apns_lag_days`` / ``fcm_lag_days = [low, high]``, short
    for a uniform lag on that window (one value when low == high). The window, when given,
    replaces the table; giving both with a table other than the default is refused.
    """

    apns_lag: LagParams = Field(
        default_factory=lambda: DEFAULT_APNS_LAG,
        description="uninstall → first APNs 410, drawn per token: default log-normal, median 10 "
        "days (9–11 observed), none within 7 days, 6.6 % past 30 days (docs/model.md §2)",
    )
    fcm_lag: LagParams = Field(
        default_factory=lambda: DEFAULT_FCM_LAG,
        description="uninstall → first FCM 404, drawn per token: default log-normal, median 1.5 "
        "days (1–2 observed), none within half a day, 1.9 % past a week (docs/model.md §2)",
    )
    apns_lag_days: OptionalWindow = Field(
        None,  # type: ignore[assignment]  # left out: apns_lag says
        description="older form of apns_lag: uniform on [low, high] days; replaces apns_lag",
    )
    fcm_lag_days: OptionalWindow = Field(
        None,  # type: ignore[assignment]  # left out: fcm_lag says
        description="older form of fcm_lag: uniform on [low, high] days; replaces fcm_lag",
    )
    fcm_inactivity_days: PositiveDays = Field(
        270.0,
        description="FCM expires tokens after 270 days without connection (docs/model.md §2); > 0",
    )
    web_inactivity_days: PositiveDays = Field(
        60.0,
        description="web tokens expire after 60 days without a session (docs/model.md §2); > 0",
    )
    web_invalidation: Annotated[WebInvalidationParams, BeforeValidator(_none_or_table)] = Field(
        default_factory=lambda: DEFAULT_WEB_INVALIDATION,
        description='silent death of web subscriptions, drawn per subscription ("none": off); '
        "default Weibull fitted to Pushpad 2018: 50/70 alive at 3 months, 7/70 at 9 "
        "(docs/model.md §2)",
    )
    transient_error_share: Share = Field(
        0.005, description="sends answered 429/5xx (modelling choice)"
    )
    credentials_valid: bool = Field(True, description="false: every send gets a credential error")

    @field_validator("apns_lag_days", "fcm_lag_days")
    @classmethod
    def _ordered_window(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        return None if value is None else _ordered(value)

    @model_validator(mode="after")
    def _one_form_per_lag(self) -> ProviderParams:
        for name, default in (("apns", DEFAULT_APNS_LAG), ("fcm", DEFAULT_FCM_LAG)):
            window: tuple[float, float] | None = getattr(self, f"{name}_lag_days")
            table: LagParams = getattr(self, f"{name}_lag")
            if window is None or table == default:
                continue
            if table.lag() != UniformLag(*window):
                raise ValueError(
                    f"{name}_lag_days and {name}_lag are both given: {name}_lag_days = [low, "
                    f'high] is short for {name}_lag = {{ distribution = "uniform", low_days = '
                    "low, high_days = high }; keep one"
                )
        return self

    def uninstall_lag(self, provider: Literal["apns", "fcm"]) -> UninstallLag:
        """The uninstall lag of ``provider``: the window if given, else the distribution."""
        window: tuple[float, float] | None = getattr(self, f"{provider}_lag_days")
        if window is not None:
            return UniformLag(*window)
        table: LagParams = getattr(self, f"{provider}_lag")
        return table.lag()


class CampaignParams(_Params):
    """Campaigns sent through the providers, and the SDK's flush delay."""

    schedule: Literal["periodic", "poisson"] = Field(
        "periodic",
        description="periodic: a campaign every every_days; poisson: at random times, "
        "rate_per_day on average (exponential gaps, the same times in every shard)",
    )
    every_days: Days = Field(
        7.0,
        description="periodic schedule: days between campaigns (0: none; else at least an hour, "
        "1/24)",
    )
    rate_per_day: float = Field(
        1 / 7,
        ge=0.0,
        le=MAX_CAMPAIGNS_PER_DAY,
        allow_inf_nan=False,
        description="poisson schedule: campaigns per day on average (0: none; at most 24, hourly "
        "on average)",
    )
    first_campaign_day: Days = Field(
        0.5,
        description="day of the first campaign (poisson: the schedule starts then, the first "
        "campaign an exponential gap later)",
    )
    kind: Literal["foreground", "background"] = Field(
        "foreground", description="R9 default audience, or any token (nothing shown)"
    )
    sdk_flush_delay_days: float = Field(
        10 / 86_400,
        ge=0.0,
        le=MAX_SDK_FLUSH_DELAY_DAYS,
        allow_inf_nan=False,
        description="SDK batches reach the registry after this delay (10 s; at most a day)",
    )
    probe_at_hour: float = Field(
        2.0, ge=0.0, lt=24.0, description="hour of the nightly uninstall-tracking probe"
    )

    @field_validator("every_days")
    @classmethod
    def _hourly_at_most(cls, every: float) -> float:
        if 0.0 < every < MIN_CAMPAIGN_EVERY_DAYS:
            raise ValueError(
                "must be 0 (no campaigns) or at least 1/24 (hourly): a campaign walks the whole "
                "audience"
            )
        return every


class PolicyParams(_Params):
    """The registry policy and the app's uninstall tracking; defaults follow the source."""

    refresh_on_session_start: bool = Field(True, description="re-register at every session (R1)")
    detach_on_logout: bool = Field(False, description="logout removes the token (R3 switch)")
    prune_after_days: PositiveDays | None = Field(
        None, description="remove tokens with no session for this long (none: never); > 0"
    )
    honour_apns_timestamp: bool = Field(True, description="ignore 410s older than registration")
    uninstall_tracking: bool = Field(False, description="nightly background probes (R7)")

    def registry_policy(self) -> RegistryPolicy:
        """The registry's policy object."""
        return RegistryPolicy(
            refresh_on_session_start=self.refresh_on_session_start,
            detach_on_logout=self.detach_on_logout,
            prune_after_days=self.prune_after_days,
            honour_apns_timestamp=self.honour_apns_timestamp,
        )


#: The forms ``[registry] model`` takes (checked here; loading is :mod:`sim.models`' job).
_MODEL_PATTERN = r"^(reference|subscriptions|http|[^:\s]+:[A-Za-z_][A-Za-z0-9_]*)$"


class RegistryParams(_Params):
    """Which registration logic the world runs against (docs/model.md §8); reference by default."""

    model: str = Field(
        "reference",
        description='"reference", "subscriptions", "http", "package.module:factory" or '
        '"path/to/file.py:factory" (called as factory(policy, **options))',
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="keyword arguments for the model's factory (e.g. url for http)",
    )

    @field_validator("model")
    @classmethod
    def _model_form(cls, model: str) -> str:
        if not re.match(_MODEL_PATTERN, model):
            raise ValueError(
                'must be "reference", "subscriptions", "http", "package.module:factory" or '
                '"path/to/file.py:factory"'
            )
        return model


class WorldParams(_Params):
    """Everything that defines a world and the registry policy it is measured under."""

    population: PopulationParams = Field(default_factory=PopulationParams)
    permission: PermissionParams = Field(default_factory=PermissionParams)
    behaviour: BehaviourParams = Field(default_factory=BehaviourParams)
    providers: ProviderParams = Field(default_factory=ProviderParams)
    campaigns: CampaignParams = Field(default_factory=CampaignParams)
    policy: PolicyParams = Field(default_factory=PolicyParams)
    registry: RegistryParams = Field(default_factory=RegistryParams)

    def as_dict(self) -> dict[str, Any]:
        """Nested plain-dict view, for attaching to results."""
        return self.model_dump(mode="json")

    def changed(self, **sections: dict[str, Any]) -> WorldParams:
        """A validated copy with some fields of some sections replaced.

        >>> WorldParams().changed(population={"devices": 500}).population.devices
        500
        """
        data = self.model_dump()
        for section, values in sections.items():
            if section not in data:
                raise ValueError(f"unknown section {section!r}; known: {', '.join(data)}")
            data[section].update(values)
        return WorldParams.model_validate(data)
