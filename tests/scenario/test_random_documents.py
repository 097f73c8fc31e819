"""Random scenario documents: anything fed to ``parse_scenario`` is a Scenario or a ScenarioError.

Documents mix the schema's real key names with typos, random types, nested tables and extreme
numbers (huge, negative, NaN, infinite). A subset valid by construction must round-trip through
``to_toml`` → ``parse_scenario`` to an equal scenario with an equal digest.
"""

from __future__ import annotations

import math
import string
from typing import Any

import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.scenario import Scenario, ScenarioError, parse_scenario, to_toml
from sim.scenario.validation import allowed_keys
from sim.world.params import DEFAULT_MIX

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


SECTIONS = list(Scenario.model_fields)
#: the keys each section (table) allows
SECTION_KEYS = {section: allowed_keys(Scenario, (section,)) for section in SECTIONS}
KEYS = sorted(
    set(SECTIONS) | {k for keys in SECTION_KEYS.values() for k in keys} | set(DEFAULT_MIX)
)
#: every real ``section.key`` path (what ``--set`` takes)
PATHS = sorted(f"{section}.{key}" for section, keys in SECTION_KEYS.items() for key in keys)


def _typos(key: str) -> list[str]:
    return [key[:-1], key + "s", key.upper(), key.replace("_", "-"), key.replace("_", "")]


TYPOS = sorted({typo for key in KEYS for typo in _typos(key) if typo and typo not in KEYS})

key_names = st.one_of(
    st.sampled_from(KEYS),
    st.sampled_from(TYPOS),
    st.text(string.ascii_letters + string.digits + "_-.[] ", min_size=1, max_size=12),
    st.text(max_size=6),
)

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN, ±inf, huge, tiny, -0.0
    st.sampled_from([0, 1, -1, 0.5, 1.0000001, 1e308, -1e-308, 2**63 - 1, 24.0, 23.999]),
)
#: values a real key might plausibly hold (in range, the right type, a Literal choice)
plausible_scalars = st.one_of(
    st.floats(min_value=0.0, max_value=1.0),
    st.integers(min_value=0, max_value=400),
    st.floats(min_value=-1.0, max_value=400.0, allow_nan=False),
    st.booleans(),
    st.sampled_from(
        ["prompt", "provisional", "gesture", "page_load", "foreground", "background", "grid"]
    ),
)
plausible = st.one_of(
    plausible_scalars,
    st.lists(st.floats(min_value=-1.0, max_value=20.0), min_size=1, max_size=3),
    # a device mix
    st.dictionaries(
        st.one_of(st.sampled_from(sorted(DEFAULT_MIX)), st.sampled_from(["iphone", "IOS"])),
        st.floats(min_value=-0.5, max_value=1.5),
        max_size=4,
    ),
    # key paths to lists of values (as a sweep takes them)
    st.dictionaries(
        st.one_of(st.sampled_from(PATHS), st.sampled_from(PATHS), key_names),
        st.lists(plausible_scalars, max_size=3),
        max_size=3,
    ),
)
scalars = st.one_of(
    numbers,
    st.booleans(),
    st.text(max_size=20),
    st.dates(),
    st.datetimes(),
    st.times(),
)
values = st.recursive(
    st.one_of(scalars, plausible),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(key_names, children, max_size=5),
    ),
    max_leaves=12,
)


def section_tables(section: str) -> st.SearchStrategy[dict[str, Any]]:
    """A table for ``section``: mostly its real keys, sometimes typos or nonsense."""
    real = st.sampled_from(SECTION_KEYS[section])
    keys = st.one_of(real, real, real, key_names)
    return st.dictionaries(keys, st.one_of(plausible, plausible, values), max_size=6)


names = st.one_of(st.sampled_from(["baseline", "x", "a b", "", "é"]), st.text(max_size=8))
documents = st.one_of(
    # anything at all
    st.dictionaries(key_names, values, max_size=8),
    # real sections with plausible and implausible contents, so that validation goes deep
    st.fixed_dictionaries(
        {"scenario": st.fixed_dictionaries({"name": names})},
        optional={
            section: section_tables(section) for section in SECTIONS if section != "scenario"
        },
    ),
    st.fixed_dictionaries(
        {},
        optional={section: st.one_of(section_tables(section), values) for section in SECTIONS},
    ),
)
override_paths = st.one_of(
    st.sampled_from(PATHS),
    st.sampled_from(PATHS),
    st.lists(st.one_of(st.sampled_from(KEYS), st.sampled_from(TYPOS)), max_size=3).map(".".join),
    st.text(max_size=10),
)
override_values = st.one_of(
    st.sampled_from(["1", "-1", "0.5", "1.5", "true", "[1, 2]", "[3, 1]", "nan", "inf", '"x"']),
    st.sampled_from(["{ ios = 1.0 }", "{}", "prompt", "", "1e400", "99999999999999999999999"]),
    st.text(max_size=8),
)
overrides = st.lists(
    st.builds(lambda path, value: f"{path}={value}", override_paths, override_values)
    | st.text(max_size=12),
    max_size=3,
)


def dumps(document: dict[str, Any]) -> str:
    try:
        return tomli_w.dumps(document)
    except (TypeError, ValueError):
        assume(False)
        raise  # pragma: no cover (assume(False) never returns)


@SETTINGS
@given(document=documents, assignments=overrides)
def test_any_document_is_a_scenario_or_a_scenario_error(
    document: dict[str, Any], assignments: list[str]
):
    text = dumps(document)
    try:
        scenario = parse_scenario(text, "random.toml", assignments)
    except ScenarioError as error:
        message = str(error)
        assert message.startswith("random.toml: ")
        assert error.file == "random.toml"
        assert error.problems
        assert "Traceback" not in message
        return
    # accepted: it must be a real, usable scenario
    assert isinstance(scenario, Scenario)
    assert len(scenario.digest()) == 16
    assert parse_scenario(to_toml(scenario)).digest() == scenario.digest()


# -- valid by construction -----------------------------------------------------------------------


def finite(low: float, high: float | None = None, **kwargs: Any) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False, **kwargs)


shares = finite(0.0, 1.0)
#: an occasional event of one person or device per day: at most MAX_EVENTS_PER_DAY (100)
rates = st.one_of(finite(0.0, 100.0), st.integers(min_value=0, max_value=100).map(float))
days = finite(0.0, 36_500.0)
positive_days = finite(1e-6, 36_500.0)
windows = st.lists(days, min_size=2, max_size=2).map(sorted)
#: scenario names: one folder name (not hidden, no trailing '.', no Windows device name)
scenario_names = st.from_regex(
    r"[A-Za-z0-9_]([A-Za-z0-9_.-]{0,18}[A-Za-z0-9_-])?", fullmatch=True
).filter(lambda name: name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"})


@st.composite
def platform_shares(draw: st.DrawFn) -> dict[str, float]:
    kinds = draw(
        st.lists(st.sampled_from(sorted(DEFAULT_MIX)), min_size=1, max_size=4, unique=True)
    )
    weights = [draw(st.integers(min_value=1, max_value=1000)) for _ in kinds]
    total = sum(weights)
    mix: dict[str, float] = {
        kind: weight / total for kind, weight in zip(kinds, weights, strict=True)
    }
    assume(math.isclose(sum(mix.values()), 1.0, abs_tol=1e-9))
    return mix


@st.composite
def uninstall_shares(draw: st.DrawFn) -> dict[str, float]:
    low, high = sorted(draw(st.lists(shares, min_size=2, max_size=2)))
    if high == 1.0:  # all gone by day 30 only if all gone by day 1 (a constant rate in between)
        low = 1.0
    return {"uninstall_by_day1_share": low, "uninstall_by_day30_share": high}


@st.composite
def measurements(draw: st.DrawFn) -> dict[str, Any]:
    length = draw(finite(1e-6, 36_500.0))
    table: dict[str, Any] = {
        "days": length,
        "warm_up_days": draw(finite(0.0, length, exclude_max=True)),
    }
    extra = {
        "sample_every_days": finite(1 / 1440, 100.0),
        "seed": st.integers(min_value=0, max_value=2**63 - 1),
        "replications": st.integers(min_value=1, max_value=100),
        "shards": st.integers(min_value=1, max_value=1000),
    }
    for key, strategy in extra.items():
        if draw(st.booleans()):
            table[key] = draw(strategy)
    return table


def some_of(required: dict[str, Any], **optional: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required, optional=optional)


valid_documents = some_of(
    {
        "scenario": some_of(
            {"name": scenario_names},
            description=st.text(max_size=40),
        )
    },
    population=some_of(
        {},
        devices=st.integers(min_value=0, max_value=10**8),
        platform_share=platform_shares(),
        web_safari_share=shares,
        shared_device_share=shares,
        sharers_per_shared_device=st.integers(min_value=2, max_value=4),
        login_share=shares,
        arrivals_per_day=st.one_of(rates, finite(0.0, 1e6)),
    ),
    permission=some_of(
        {},
        ios_opt_in_share=shares,
        ios_strategy=st.sampled_from(["prompt", "provisional"]),
        android_13_opt_in_share=shares,
        web_prompt=st.sampled_from(["gesture", "page_load"]),
        turn_off_per_day=rates,
    ),
    behaviour=st.tuples(
        uninstall_shares(),
        some_of(
            {},
            session_rate_per_day=st.one_of(rates, finite(0.0, 500.0)),
            session_rate_log_sigma=finite(0.0, 3.0),
            active_mean_days=days,
            reinstall_share=shares,
        ),
    ).map(lambda parts: {**parts[0], **parts[1]}),
    providers=some_of(
        {},
        apns_lag_days=windows,
        fcm_lag_days=windows,
        fcm_inactivity_days=positive_days,
        web_inactivity_days=positive_days,
        transient_error_share=shares,
        credentials_valid=st.booleans(),
    ),
    campaigns=some_of(
        {},
        every_days=st.one_of(st.just(0.0), finite(1 / 24, 36_500.0)),
        sdk_flush_delay_days=finite(0.0, 1.0),
        kind=st.sampled_from(["foreground", "background"]),
        probe_at_hour=finite(0.0, 24.0, exclude_max=True),
    ),
    policy=some_of(
        {},
        refresh_on_session_start=st.booleans(),
        detach_on_logout=st.booleans(),
        prune_after_days=positive_days,
        uninstall_tracking=st.booleans(),
    ),
    measurement=measurements(),
)


@SETTINGS
@given(document=valid_documents)
def test_valid_documents_round_trip_with_an_equal_digest(document: dict[str, Any]):
    text = tomli_w.dumps(document)
    scenario = parse_scenario(text, "valid.toml")
    resolved = to_toml(scenario)
    again = parse_scenario(resolved, "valid.resolved.toml")
    assert again == scenario
    assert again.digest() == scenario.digest()
    # resolving is idempotent: the resolved file resolves to itself
    assert to_toml(again) == resolved
    # every key given in the document is kept as given
    for section, table in document.items():
        for key, value in table.items():
            kept = getattr(getattr(scenario, section), key)
            assert (list(kept) if isinstance(kept, tuple) else kept) == value, (section, key)


@SETTINGS
@given(document=valid_documents, devices=st.integers(min_value=0, max_value=10**6))
def test_set_overrides_equal_the_same_key_in_the_file(document: dict[str, Any], devices: int):
    text = tomli_w.dumps(document)
    overridden = parse_scenario(text, "valid.toml", [f"population.devices={devices}"])
    document.setdefault("population", {})["devices"] = devices
    assert overridden.digest() == parse_scenario(tomli_w.dumps(document)).digest()


def test_a_different_scenario_has_a_different_digest():
    base = parse_scenario('[scenario]\nname = "x"\n')
    assert base.digest() != parse_scenario('[scenario]\nname = "y"\n').digest()
    assert (
        base.digest()
        != parse_scenario('[scenario]\nname = "x"\n[population]\ndevices = 9999\n').digest()
    )
    # an integer and the equal float are the same scenario
    assert (
        parse_scenario('[scenario]\nname = "x"\n[measurement]\ndays = 30\n').digest()
        == parse_scenario('[scenario]\nname = "x"\n[measurement]\ndays = 30.0\n').digest()
    )
