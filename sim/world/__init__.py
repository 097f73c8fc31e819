"""The simulated world (docs/model.md §4): SimPy processes for people, devices and campaigns."""

from sim.world.actions import Actions, Answer, WorldError, anonymous_user
from sim.world.device import Device, DeviceKind, Permission
from sim.world.params import (
    BehaviourParams,
    CampaignParams,
    PermissionParams,
    PopulationParams,
    ProviderParams,
    WorldParams,
)
from sim.world.signals import Outcome, SendRecord, Truth, TruthEvent
from sim.world.streams import Streams
from sim.world.world import APP, World

__all__ = [
    "APP",
    "Actions",
    "Answer",
    "BehaviourParams",
    "CampaignParams",
    "Device",
    "DeviceKind",
    "Outcome",
    "Permission",
    "PermissionParams",
    "PopulationParams",
    "ProviderParams",
    "SendRecord",
    "Streams",
    "Truth",
    "TruthEvent",
    "World",
    "WorldError",
    "WorldParams",
    "anonymous_user",
]
