"""Per-token random provider timing: uninstall lags and web lifetimes (docs/model.md §2).

- the lag families draw what their closed forms say (one uniform draw per token, through the
  quantile function), and the defaults sit where docs/model.md §2 puts them: APNs median 9–11 days
  with 5–10 % of tokens past 30 days, FCM median 1–2 days with a shorter tail;
- the web lifetime is the Weibull through Pushpad's 2018 curve, recomputed here;
- a web subscription dies silently at its drawn age: 410 from then on (or 201 and nothing shown);
- every scenario key of the lags and the lifetime is bounded, and what validates builds and runs;
- the lags come from the world's ``lag`` stream: changing them changes no other draw.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim.platforms import Provider
from sim.providers import (
    FixedLag,
    LognormalLag,
    ProviderConfig,
    PushService,
    TokenDeath,
    UniformLag,
    WebPushService,
    WeibullLifetime,
)
from sim.providers.config import (
    APNS_UNINSTALL_LAG,
    FCM_UNINSTALL_LAG,
    PUSHPAD_2018_SURVIVAL,
    WEB_SUBSCRIPTION_LIFETIME,
)
from sim.scenario import ScenarioError, parse_scenario, to_toml
from sim.scenario.load import scenario_from_dict
from sim.simulation import Simulation
from sim.world import PopulationParams, ProviderParams, TruthEvent, WorldParams
from sim.world.params import (
    MAX_DAYS,
    MAX_LAG_LOG_SIGMA,
    MAX_WEIBULL_SHAPE,
    MIN_WEIBULL_SHAPE,
    LagParams,
)
from sim.world.world import World, provider_configs

from .support import ScriptedRng

MONTH = 365.25 / 12
DRAWS = 20_000


def draws(lag: FixedLag | UniformLag | LognormalLag, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([lag.draw(rng) for _ in range(DRAWS)])


# --- the lag families ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lag", "reference"),
    [
        (LognormalLag(10.0, 1.35, 7.0), stats.lognorm(1.35, loc=7.0, scale=3.0)),
        (LognormalLag(1.5, 0.9, 0.5), stats.lognorm(0.9, loc=0.5, scale=1.0)),
        (LognormalLag(4.0, 0.5), stats.lognorm(0.5, scale=4.0)),
        (UniformLag(9.0, 11.0), stats.uniform(9.0, 2.0)),
    ],
)
def test_lag_draws_follow_the_distribution(lag: UniformLag | LognormalLag, reference: Any) -> None:
    sample = draws(lag)
    assert stats.kstest(sample, reference.cdf).pvalue > 0.001
    assert lag.mean == pytest.approx(reference.mean(), rel=1e-9)
    for days in (0.5, 2.0, 9.0, 10.0, 30.0, 60.0):
        assert lag.survival(days) == pytest.approx(reference.sf(days), abs=1e-12)


def test_a_lognormal_lag_is_one_draw_through_the_normal_quantile_function() -> None:
    lag = LognormalLag(10.0, 1.35, 7.0)
    for u in (1e-9, 0.1, 0.5, 0.9, 1 - 2**-53):
        expected = 7.0 + 3.0 * math.exp(1.35 * stats.norm.ppf(u))
        assert lag.draw(ScriptedRng([u])) == pytest.approx(expected, rel=1e-9)
    assert lag.draw(ScriptedRng([0.0])) >= 7.0  # a draw of exactly 0 is the smallest draw
    assert lag.draw(None) == 10.0
    assert LognormalLag(10.0, 0.0, 7.0).draw(ScriptedRng([0.99])) == 10.0  # sigma 0: fixed
    assert FixedLag(3.0).draw(ScriptedRng([])) == 3.0  # a fixed lag draws nothing


def test_apns_default_lag_is_centred_on_9_to_11_days_with_a_tail_past_30() -> None:
    lag = APNS_UNINSTALL_LAG
    assert 9.0 <= lag.median_days <= 11.0
    assert 0.05 <= lag.survival(30.0) <= 0.10
    assert lag.survival(lag.shift_days) == 1.0  # never reported within the first week
    assert lag.mean == pytest.approx(14.46, abs=0.01)
    sample = draws(lag)
    assert sample.min() >= 7.0
    assert 9.0 <= float(np.median(sample)) <= 11.0
    assert float((sample > 30).mean()) == pytest.approx(lag.survival(30.0), abs=0.006)
    assert float(sample.mean()) == pytest.approx(lag.mean, rel=0.05)
    print(
        f"APNs lag: shifted log-normal shift {lag.shift_days} d, median {lag.median_days} d, "
        f"sigma {lag.sigma}; mean {lag.mean:.2f} d, past 30 d {lag.survival(30.0):.3f}"
    )


def test_fcm_default_lag_is_1_to_2_days_with_a_shorter_tail() -> None:
    lag = FCM_UNINSTALL_LAG
    assert 1.0 <= lag.median_days <= 2.0
    assert lag.mean == pytest.approx(2.0, abs=0.01)
    assert lag.survival(7.0) < 0.02
    assert lag.survival(30.0) < 1e-3
    for days in (5.0, 10.0, 20.0, 30.0):  # shorter than APNs' at every length
        assert lag.survival(days) < APNS_UNINSTALL_LAG.survival(days)
    sample = draws(lag)
    assert 1.0 <= float(np.median(sample)) <= 2.0
    assert sample.min() >= 0.5


# --- the web lifetime: the Pushpad 2018 fit ----------------------------------------------------


def test_web_lifetime_is_the_weibull_through_the_pushpad_2018_curve() -> None:
    """The fit, reproducible: Pushpad (2018) saw ≈ 70 % delivered for new subscriptions, ≈ 50 %
    at 3 months and < 10 % at 9 months (taken as 7 %). Relative to age 0, S(3 mo) = 50/70 and
    S(9 mo) = 7/70; a Weibull S(t) = exp(-(t/scale)**shape) through both points."""
    (t1, s1), (t2, s2) = PUSHPAD_2018_SURVIVAL
    assert (t1, t2) == (3 * MONTH, 9 * MONTH)
    assert (s1, s2) == (50 / 70, 7 / 70)
    fit = WeibullLifetime.through((t1, s1), (t2, s2))
    print(f"Pushpad 2018 fit: shape {fit.shape:.4f}, scale {fit.scale_days:.2f} days")
    assert fit.survival(t1) == pytest.approx(s1, rel=1e-12)
    assert fit.survival(t2) == pytest.approx(s2, rel=1e-12)
    default = WEB_SUBSCRIPTION_LIFETIME
    assert (default.shape, default.scale_days) == (round(fit.shape, 2), round(fit.scale_days))
    # the default, rounded, still follows the curve: delivered = 70 % × S(age)
    delivered = {months: 0.70 * default.survival(months * MONTH) for months in (0, 3, 9)}
    print("delivered by age (months):", {m: round(d, 3) for m, d in delivered.items()})
    assert delivered[0] == 0.70
    assert delivered[3] == pytest.approx(0.50, abs=0.005)
    assert delivered[9] < 0.10
    assert default.mean == pytest.approx(151.4, abs=0.1)
    assert default.median == pytest.approx(137.9, abs=0.1)


def test_lifetime_draws_follow_the_weibull() -> None:
    lifetime = WeibullLifetime(170.0, 1.75)
    rng = np.random.default_rng(3)
    sample = np.array([lifetime.draw(rng) for _ in range(DRAWS)])
    reference = stats.weibull_min(1.75, scale=170.0)
    assert stats.kstest(sample, reference.cdf).pvalue > 0.001
    assert lifetime.mean == pytest.approx(reference.mean(), rel=1e-9)
    assert lifetime.median == pytest.approx(reference.median(), rel=1e-9)
    assert lifetime.draw(ScriptedRng([0.0])) == 0.0
    assert math.isfinite(lifetime.draw(ScriptedRng([1 - 2**-53])))


# --- the silent death of a web subscription -----------------------------------------------------


def test_a_web_subscription_dies_silently_at_its_drawn_age_and_is_answered_410() -> None:
    web = WebPushService(ProviderConfig.webpush(silent_death=WeibullLifetime(100.0, 1.0)))
    u = 1 - math.exp(-0.3)  # lifetime 100 × 0.3 = 30 days
    token = web.issue(10.0, "d", "site", browser="chrome", rng=ScriptedRng([u]))
    died = web.status_changes_at(token)
    assert died == pytest.approx(40.0)
    web.connect(39.0, token)  # keeps it from the 60-day expiry; nothing tells the site
    assert web.delivers(39.9, token)
    assert web.send(39.9, token, "site").status == 200
    assert web.death(token, now=39.9) is None
    assert not web.delivers(died, token)
    assert web.send(died, token, "site").status == 410
    assert web.death(token) == (TokenDeath.DATA_CLEARED, died)
    assert web.current_token("d", "site") is None
    web.connect(41.0, token)  # a connection never revives a token
    assert web.status(41.0, token) == PushService.REJECTS
    assert web.status_changes_at(token) == math.inf
    again = web.issue(42.0, "d", "site", rng=ScriptedRng([0.5]))  # the browser subscribes again
    assert again != token and web.delivers(42.0, again)


def test_an_unreported_silent_death_is_accepted_and_never_delivered_until_expiry() -> None:
    config = ProviderConfig.webpush(
        silent_death=WeibullLifetime(100.0, 1.0), silent_death_reported=False
    )
    web = WebPushService(config)
    token = web.issue(0.0, "d", "site", rng=ScriptedRng([1 - math.exp(-0.1)]))  # 10 days
    died = web.status_changes_at(token)
    assert died == pytest.approx(10.0)
    assert web.status(died, token) == PushService.ACCEPTS_ONLY
    assert web.send(30.0, token, "site").status == 200
    assert web.status_changes_at(token) == 60.0  # the inactivity expiry: 60 days, no connection
    assert web.send(60.5, token, "site").status == 410
    assert web.death(token) == (TokenDeath.DATA_CLEARED, died)


def test_the_lifetime_is_drawn_only_with_a_random_source_and_a_configured_hazard() -> None:
    web = WebPushService()  # the default has the Pushpad hazard
    assert web.config.silent_death == WEB_SUBSCRIPTION_LIFETIME
    token = web.issue(0.0, "d1", "site")  # no rng: no silent death (scripted stories)
    assert web.status_changes_at(token) == 60.0
    rng = ScriptedRng([0.5])
    web.issue(0.0, "d2", "site", rng=rng)
    assert rng.exhausted
    off = WebPushService(ProviderConfig.webpush(silent_death=None))
    rng = ScriptedRng([])
    off.issue(0.0, "d", "site", rng=rng)  # no hazard: nothing drawn
    rotated = off.rotate(1.0, "d", "site", rng=rng)
    assert rng.draws == 0 and off.status_changes_at(rotated) == 61.0


def test_rotation_and_reissue_draw_a_new_lifetime_and_earlier_deaths_win() -> None:
    config = ProviderConfig.apns(
        silent_death=WeibullLifetime(100.0, 1.0), reissue_same_token_on_reinstall=True
    )
    apns = service_of(config)
    token = apns.issue(0.0, "d", "app", rng=ScriptedRng([1 - math.exp(-0.5)]))  # dies at 50
    apns.invalidate(5.0, token, TokenDeath.UNINSTALL)  # an earlier death replaces it
    assert apns.death(token) == (TokenDeath.UNINSTALL, 5.0)
    again = apns.issue(20.0, "d", "app", rng=ScriptedRng([1 - math.exp(-0.1)]))
    assert again == token  # the same string, valid again, with a new lifetime: 20 + 10
    assert apns.status_changes_at(token) == pytest.approx(30.0)
    rotated = apns.rotate(25.0, "d", "app", rng=ScriptedRng([1 - math.exp(-0.2)]))
    assert apns.death(token) == (TokenDeath.ROTATION, 25.0)
    assert apns.status_changes_at(rotated) == pytest.approx(45.0)


def service_of(config: ProviderConfig) -> PushService:
    from sim.providers import service_for

    return service_for(Provider.APNS, config)


# --- scenario keys: bounds, forms and what the world is given ------------------------------------


def document(providers: dict[str, Any]) -> dict[str, Any]:
    return {
        "scenario": {"name": "lags"},
        "population": {"devices": 20},
        "measurement": {"days": 1.0},
        "providers": providers,
    }


LOGNORMAL = {"distribution": "lognormal", "median_days": 10.0, "sigma": 1.0}
WEIBULL = {"distribution": "weibull", "scale_days": 170.0, "shape": 1.75}
NEXT_UP = math.nextafter(MAX_DAYS, math.inf)


@pytest.mark.parametrize(
    ("providers", "accepted"),
    [
        ({"apns_lag": {**LOGNORMAL, "sigma": 0.0}}, True),
        ({"apns_lag": {**LOGNORMAL, "sigma": MAX_LAG_LOG_SIGMA}}, True),
        ({"apns_lag": {**LOGNORMAL, "sigma": math.nextafter(MAX_LAG_LOG_SIGMA, 9)}}, False),
        ({"apns_lag": {**LOGNORMAL, "sigma": -1e-300}}, False),
        ({"apns_lag": {**LOGNORMAL, "median_days": 5e-324}}, True),
        ({"apns_lag": {**LOGNORMAL, "median_days": MAX_DAYS, "sigma": 3.0}}, True),
        ({"apns_lag": {**LOGNORMAL, "median_days": NEXT_UP}}, False),
        ({"apns_lag": {**LOGNORMAL, "median_days": 0.0}}, False),
        ({"apns_lag": {**LOGNORMAL, "shift_days": 10.0}}, False),
        ({"apns_lag": {**LOGNORMAL, "shift_days": math.nextafter(10.0, 0)}}, True),
        ({"apns_lag": {**LOGNORMAL, "shift_days": -1.0}}, False),
        ({"fcm_lag": {"distribution": "uniform", "low_days": 0.0, "high_days": MAX_DAYS}}, True),
        ({"fcm_lag": {"distribution": "uniform", "low_days": 2.0, "high_days": 1.0}}, False),
        ({"fcm_lag": {"distribution": "uniform", "low_days": 0.0, "high_days": NEXT_UP}}, False),
        ({"fcm_lag": {"distribution": "fixed", "days": 0.0}}, True),
        ({"fcm_lag": {"distribution": "fixed", "days": MAX_DAYS}}, True),
        ({"fcm_lag": {"distribution": "fixed", "days": math.inf}}, False),
        ({"fcm_lag": {"distribution": "fixed", "days": math.nan}}, False),
        ({"fcm_lag": {"distribution": "fixed", "days": 1.0, "sigma": 1.0}}, False),
        ({"fcm_lag": {"distribution": "fixed"}}, False),
        ({"fcm_lag": {"distribution": "gamma", "days": 1.0}}, False),
        ({"fcm_lag": {"days": 1.0}}, False),
        ({"fcm_lag": 1.0}, False),
        ({"web_invalidation": "none"}, True),
        ({"web_invalidation": {"distribution": "none"}}, True),
        ({"web_invalidation": "off"}, False),
        ({"web_invalidation": {"distribution": "none", "shape": 1.0}}, False),
        ({"web_invalidation": {**WEIBULL, "shape": MIN_WEIBULL_SHAPE}}, True),
        ({"web_invalidation": {**WEIBULL, "shape": MAX_WEIBULL_SHAPE}}, True),
        ({"web_invalidation": {**WEIBULL, "shape": math.nextafter(0.2, 0)}}, False),
        ({"web_invalidation": {**WEIBULL, "shape": math.nextafter(20.0, 99)}}, False),
        ({"web_invalidation": {**WEIBULL, "scale_days": 5e-324}}, True),
        ({"web_invalidation": {**WEIBULL, "scale_days": 0.0}}, False),
        ({"web_invalidation": {**WEIBULL, "scale_days": MAX_DAYS}}, True),
        ({"web_invalidation": {**WEIBULL, "scale_days": NEXT_UP}}, False),
        ({"web_invalidation": {**WEIBULL, "answer": "accepted"}}, True),
        ({"web_invalidation": {**WEIBULL, "answer": "maybe"}}, False),
        ({"web_invalidation": {"distribution": "weibull", "shape": 1.0}}, False),
        ({"apns_lag_days": [9.0, 11.0], "apns_lag": {"distribution": "fixed", "days": 3.0}}, False),
        ({"apns_lag_days": [9.0, 11.0]}, True),
        (
            {
                "apns_lag_days": [9.0, 11.0],
                "apns_lag": {"distribution": "uniform", "low_days": 9.0, "high_days": 11.0},
            },
            True,
        ),
    ],
)
def test_every_lag_and_lifetime_key_is_bounded_and_what_validates_runs(
    providers: dict[str, Any], accepted: bool
) -> None:
    """A refused value names its key path; an accepted one builds the world and runs a day with
    web devices dying silently and uninstalls drawing lags."""
    try:
        scenario = scenario_from_dict(document(providers), "lags.toml")
    except ScenarioError as error:
        assert not accepted, error
        where = error.problems[0][0]
        assert where == "providers" or where.startswith("providers."), error
        assert len(str(error)) < 400 and "Traceback" not in str(error)
        return
    assert accepted, providers
    params = scenario.world().changed(
        population={"platform_share": {"ios": 0.3, "android_legacy": 0.3, "web": 0.4}},
        permission={"web_gesture_opt_in_share": 1.0},
        behaviour={"uninstall_by_day1_share": 0.9, "uninstall_by_day30_share": 0.95},
    )
    simulation = Simulation(params, seed=1)
    simulation.run(1.0)
    assert simulation.result().days == 1.0
    # the resolved form reads back as the same scenario
    assert parse_scenario(to_toml(scenario), "lags.resolved.toml") == scenario


def test_the_world_gets_the_distributions_the_scenario_names() -> None:
    configs = provider_configs(WorldParams())
    assert configs[Provider.APNS].uninstall_lag == APNS_UNINSTALL_LAG
    assert configs[Provider.FCM].uninstall_lag == FCM_UNINSTALL_LAG
    assert configs[Provider.WEBPUSH].silent_death == WEB_SUBSCRIPTION_LIFETIME
    assert not configs[Provider.WEBPUSH].silent_death_reported  # "accepted", as Pushpad counted
    # the older window form, as stories write it: a fixed lag is a window of one value
    story = ProviderParams(apns_lag_days=(9.0, 9.0), fcm_lag_days=(1.0, 1.0))
    configs = provider_configs(WorldParams(providers=story))
    assert configs[Provider.APNS].uninstall_lag == UniformLag(9.0, 9.0)
    assert configs[Provider.FCM].uninstall_lag == UniformLag(1.0, 1.0)
    off = ProviderParams.model_validate(
        {
            "web_invalidation": "none",
            "apns_lag": {"distribution": "fixed", "days": 4.0},
            "fcm_lag": {"distribution": "uniform", "low_days": 1.0, "high_days": 2.0},
        }
    )
    configs = provider_configs(WorldParams(providers=off))
    assert configs[Provider.WEBPUSH].silent_death is None
    assert configs[Provider.APNS].uninstall_lag == FixedLag(4.0)
    assert configs[Provider.FCM].uninstall_lag == UniformLag(1.0, 2.0)
    accepted = ProviderParams.model_validate(
        {"web_invalidation": {**WEIBULL, "answer": "accepted"}}
    )
    assert not provider_configs(WorldParams(providers=accepted))[
        Provider.WEBPUSH
    ].silent_death_reported
    for lag in (APNS_UNINSTALL_LAG, UniformLag(1.0, 2.0), FixedLag(3.0)):
        assert LagParams.of(lag).lag() == lag


def test_the_lags_come_from_the_lag_stream_only() -> None:
    """Common random numbers: a different lag distribution changes no one's behaviour."""
    base = WorldParams(
        population=PopulationParams(devices=400, platform_share={"ios": 0.5, "android_legacy": 0.5})
    )
    other = base.changed(
        providers={"apns_lag": {"distribution": "fixed", "days": 3.0}, "fcm_lag_days": (4.0, 6.0)}
    )
    logs: list[list[tuple[float, str, str, str | None]]] = []
    for params in (base, other):
        world = World(params, seed=5)
        log: list[tuple[float, str, str, str | None]] = []

        def remember(
            event: TruthEvent, log: list[tuple[float, str, str, str | None]] = log
        ) -> None:
            log.append((event.time, event.kind, event.device, event.old_token))

        world.signals.truth.append(remember)
        world.populate()
        world.run(60.0)
        logs.append(log)
    assert logs[0] == logs[1]
    assert len(logs[0]) > 1000
