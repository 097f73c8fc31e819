"""The world: a SimPy environment with devices, the registry, the providers and the sender.

Build it from :class:`~sim.world.params.WorldParams` and a seed, then either :meth:`World.populate`
(stochastic behaviour, campaigns, probes, pruning) or drive it by hand (stories). The registry and
providers are the pure domain objects; the world only calls them.

A world may be one shard of a household-sharded run (:class:`~sim.world.population.Shard`): it
makes the whole population's draws from the run's seed as an unsharded world does and builds only
its own households; everything else (behaviour, providers, campaigns, arrivals at ``1/count`` of
the rate) draws from the shard's own streams, and devices created during the run carry the shard's
prefix so that ids stay unique across shards.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import simpy

from sim.models import build_registry
from sim.platforms import Platform, Provider
from sim.providers import ProviderConfig, PushService, service_for
from sim.registry.protocol import RegistryProtocol
from sim.world.actions import Actions
from sim.world.behaviour import Behaviour
from sim.world.campaigns import Sender, campaign_schedule, nightly
from sim.world.device import Device, DeviceKind
from sim.world.params import WorldParams
from sim.world.population import Household, Shard, build_population, weighted_pick
from sim.world.sdk import Sdk
from sim.world.signals import Signals
from sim.world.streams import Streams, stream

#: The one app of a world, published on every platform.
APP = "app"


def provider_configs(params: WorldParams) -> dict[Provider, ProviderConfig]:
    """Provider configurations from the world's provider parameters.

    The uninstall lags and web subscription lifetimes are distributions; the world draws them
    per token from its ``lag`` stream (:class:`~sim.world.actions.Actions`).
    """
    p = params.providers
    common = {
        "transient_error_rate": p.transient_error_share,
        "credentials_valid": p.credentials_valid,
    }
    return {
        Provider.APNS: ProviderConfig.apns(uninstall_lag=p.uninstall_lag("apns"), **common),
        Provider.FCM: ProviderConfig.fcm(
            uninstall_lag=p.uninstall_lag("fcm"),
            inactivity_expiry_days=p.fcm_inactivity_days,
            **common,
        ),
        Provider.WEBPUSH: ProviderConfig.webpush(
            inactivity_expiry_days=p.web_inactivity_days,
            silent_death=p.web_invalidation.lifetime(),
            silent_death_reported=p.web_invalidation.reported,
            **common,
        ),
    }


#: devices of the worlds built since the last collection that may be garbage now, after which
#: building the next world collects them (:meth:`World.populate`): about 100 MB of records
COLLECT_AFTER_DEVICES = 10_000


class _Uncollected:
    """Devices of the worlds built in this process since the last collection made for them."""

    devices = 0


_uncollected = _Uncollected()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting goes on), as it was after.

    Everything allocated while paused is still in the youngest generation, so the first collection
    after resuming would walk it all once (0.3 s of a 10,000-device year; more the larger the
    world). On resuming, those objects are moved to the oldest generation instead (``gc.freeze``
    then ``gc.unfreeze``: two list splices), where only a full collection looks at them — unless
    someone else had frozen objects, which are then left as they are.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


class World:
    """Everything that exists in one simulated run."""

    def __init__(
        self,
        params: WorldParams | None = None,
        seed: int = 0,
        *,
        random: bool = True,
        shard: Shard | None = None,
        registry: RegistryProtocol | None = None,
    ):
        self.params = params if params is not None else WorldParams()
        self.seed = seed
        self.shard = shard if shard is not None else Shard(0, 1)
        self.streams = Streams(seed, self.shard.index if self.shard.sharded else None)
        self.env = simpy.Environment()
        #: the registration logic under test: ``registry`` if given (it must know no app yet),
        #: otherwise the model ``params.registry`` names (docs/model.md §8)
        self.registry: RegistryProtocol = (
            registry
            if registry is not None
            else build_registry(
                self.params.registry.model,
                self.params.policy.registry_policy(),
                self.params.registry.options,
            )
        )
        self.registry.add_app(
            APP, list(Platform), uninstall_tracking=self.params.policy.uninstall_tracking
        )
        self.providers: dict[Provider, PushService] = {
            provider: service_for(provider, config)
            for provider, config in provider_configs(self.params).items()
        }
        self.signals = Signals()
        self.sdk = Sdk(self.registry, self.params.campaigns.sdk_flush_delay_days)
        self.actions = Actions(
            app=APP,
            sdk=self.sdk,
            providers=self.providers,
            signals=self.signals,
            ios_provisional=self.params.permission.ios_strategy == "provisional",
            lag_rng=self.streams["lag"] if random else None,
            lifetime_rng=self.streams["lifetime"] if random else None,
        )
        self.sender = Sender(
            self.env,
            app=APP,
            registry=self.registry,
            providers=self.providers,
            installs=self.actions.installs,
            signals=self.signals,
            provider_rng=self.streams["provider"] if random else None,
            retry_rng=self.streams["retry"] if random else None,
            settle=self.actions.settle,
        )
        self.households: list[Household] = []
        self._device_counter = 0

    # -- population --------------------------------------------------------------------------

    @property
    def devices(self) -> dict[str, Device]:
        """Every device ever in the world (replaced ones included), by id."""
        return self.actions.devices

    def add_device(self, device: Device) -> Device:
        """Add a device to the world (stories build theirs by hand)."""
        return self.actions.add_device(device)

    def new_device_id(self) -> str:
        """A fresh id for a device that joins during the run."""
        self._device_counter += 1
        return f"{self.shard.prefix}n{self._device_counter}"

    def populate(self) -> None:
        """Draw the population (this shard's households) and start behaviour and sending.

        A finished world is freed by the cyclic collector, not by reference counting (its parts
        refer to each other: the registry to its listeners, the SimPy queue to the processes),
        and the collector, paused while worlds run, rarely gets round to the oldest generation on
        its own: a process that simulates world after world (a worker taking shard after shard,
        replications, calibration) would keep every earlier world. So once the worlds built
        since the last collection reach :data:`COLLECT_AFTER_DEVICES` devices, a collection is
        made here, before the new world grows, while the collector is on. (Not before every
        world: a full collection walks everything the process holds, about 0.1 s in a bare
        interpreter, which a sweep of many small worlds would pay each time.)
        """
        if _uncollected.devices >= COLLECT_AFTER_DEVICES and gc.isenabled():
            gc.collect()
            _uncollected.devices = 0
        with collector_paused():  # as for a run: only acyclic records are made
            self._populate()
        _uncollected.devices += len(self.devices)

    def _populate(self) -> None:
        if self.shard.sharded:
            # the unsharded population's draws, and this shard's part of it built
            self.households, devices = build_population(
                self.params.population, stream(self.seed, "population"), self.shard
            )
        else:
            self.households, devices = build_population(
                self.params.population, self.streams["population"]
            )
        behaviour = Behaviour(self.env, self.params, self.actions, self.streams, self.new_device_id)
        for device in devices:
            self.add_device(device)
            behaviour.start(device, 0.0)
        if self.params.population.arrivals_per_day > 0:
            self.env.process(self._arrivals(behaviour))
        self.start_sending()

    def _arrivals(self, behaviour: Behaviour) -> Generator[Any, Any, None]:
        """New people install the app at a steady rate (one personal device each).

        A shard gets ``1/count`` of the rate, from its own population stream.
        """
        rng = self.streams["population"]
        population = self.params.population
        mean_gap = self.shard.count / population.arrivals_per_day
        kinds = [DeviceKind(k) for k in population.platform_share]
        weights = np.array(list(population.platform_share.values()), dtype=float)
        pick = weighted_pick(weights)
        while True:
            yield self.env.timeout(float(rng.exponential(mean_gap)))
            device_id = self.new_device_id()
            kind = kinds[pick(float(rng.random()))]
            browser = ""
            if kind is DeviceKind.WEB:
                browser = (
                    "safari" if float(rng.random()) < population.web_safari_share else "chrome"
                )
            owner = f"q{device_id}"
            device = self.add_device(Device(device_id, kind, owner, (owner,), browser=browser))
            behaviour.start(device, self.env.now)

    def start_sending(self) -> None:
        """Start campaigns, uninstall-tracking probes and pruning as the parameters say."""
        c = self.params.campaigns
        if c.schedule == "poisson":
            if c.rate_per_day > 0:
                # the unsharded stream: every shard sends every campaign at the same time
                self.env.process(
                    campaign_schedule(
                        self.env,
                        self.sender,
                        first_day=c.first_campaign_day,
                        foreground=c.kind == "foreground",
                        schedule="poisson",
                        rate_per_day=c.rate_per_day,
                        rng=stream(self.seed, "campaigns"),
                    )
                )
        elif c.every_days > 0:
            self.env.process(
                campaign_schedule(
                    self.env,
                    self.sender,
                    first_day=c.first_campaign_day,
                    every_days=c.every_days,
                    foreground=c.kind == "foreground",
                )
            )
        if self.params.policy.uninstall_tracking:
            self.env.process(
                nightly(
                    self.env, c.probe_at_hour / 24, lambda day: self.sender.probe(f"probe{day}")
                )
            )
        if self.params.policy.prune_after_days is not None:
            self.env.process(nightly(self.env, 0.0, lambda day: self.prune()))

    def settle(self, now: float) -> None:
        """Report the devices' quiet sessions and deliver the SDK batches due by ``now``.

        Called before anything reads or changes the world at ``now`` (:mod:`sim.world.quiet`).
        """
        self.actions.settle(now)

    def prune(self) -> None:
        """The registry's nightly pruning, after what the devices did up to now."""
        self.settle(self.env.now)
        self.registry.prune_inactive(self.env.now)

    def run(self, until: float) -> None:
        """Advance the simulation to day ``until`` (exclusive, like SimPy's ``until``).

        Quiet sessions and SDK batches due before ``until`` have been reported when this returns.

        Python's cyclic garbage collector is paused while the world runs: the world makes no
        reference cycles (``tests/world/test_world_memory.py`` checks it), so the collector would
        only walk every live record again and again — at 100,000 devices it was 40 % of the run.
        Plain reference counting frees everything as before; the collector resumes on return.
        """
        with collector_paused():
            self.env.run(until=until)
            self.settle(math.nextafter(until, -math.inf))  # what is due strictly before until
