"""Stateful property test: random timelines against a brute-force model of docs/model.md §1–§2.

Hypothesis drives random sequences of session starts, logins, logouts, subscription changes,
provider answers, pruning and probes over small pools (4 devices, 2 apps, 4 users), under a random
:class:`RegistryPolicy`. A fake provider issues token strings per (device, app) and only ever
reports a token for the slot it was issued to. After every step the registry is checked against a
model kept with plain dicts, against itself (indexes against records) and against its event log.
"""

from collections import Counter
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from sim.platforms import PROVIDER_OF, Platform, Provider
from sim.providers.answers import CLASSIFICATION, Action, SendResult, classify
from sim.registry import (
    PROBE_QUIET_DAYS,
    Change,
    Registry,
    RegistryPolicy,
    SubscriptionState,
    TokenEvent,
    anonymous_profile_id,
)

SHOP = "shop"  # iOS + Android, uninstall tracking on
SITE = "site"  # the website, Web Push
APPS = (SHOP, SITE)
APP_PLATFORMS = {SHOP: (Platform.IOS, Platform.ANDROID), SITE: (Platform.WEB,)}
#: device -> (mobile platform, Android 12 or below: implicit permission)
DEVICES = {
    "d0": (Platform.IOS, False),
    "d1": (Platform.ANDROID, True),
    "d2": (Platform.ANDROID, False),
    "d3": (Platform.IOS, False),
}
USERS = ("u0", "u1", "u2", "u3")
SLOTS = [(device, app) for device in DEVICES for app in APPS]
MAX_TOKENS_PER_SLOT = 4

Slot = tuple[str, str]


def platform_of(slot: Slot) -> Platform:
    device, app = slot
    return Platform.WEB if app == SITE else DEVICES[device][0]


def answers_for(provider: Provider) -> list[tuple[int, str]]:
    """Every (status, reason) the classification table knows for ``provider``, plus 2xx and a few
    answers classified by rule rather than by table entry."""
    answers = {(status, reason) for (p, status, reason) in CLASSIFICATION if p is provider}
    answers.add((200, ""))
    if provider is Provider.WEBPUSH:
        answers.update({(500, ""), (503, "")})
    if provider is Provider.FCM:
        answers.update({(404, "NotRegistered"), (403, "MismatchSenderId")})
    return sorted(answers)


@dataclass
class ModelToken:
    token: str
    owner: str
    foreground: bool
    provisional: bool
    registered_at: float
    last_session_at: float
    last_quiet_at: float  # last session or answered push (uninstall tracking)
    last_accepted_at: float | None = None


#: mostly short steps (hours), sometimes none, sometimes days
TIME_STEP = st.one_of(
    st.just(0.0),
    st.floats(min_value=0.0, max_value=0.5),
    st.floats(min_value=0.0, max_value=4.0),
)
#: what the SDK reports at a session start; weighted towards the token already held
REPORTS = st.sampled_from(["held", "held", "held", "new", "old", "none"])
POLICIES = st.builds(
    RegistryPolicy,
    refresh_on_session_start=st.booleans(),
    detach_on_logout=st.booleans(),
    prune_after_days=st.one_of(st.none(), st.floats(min_value=0.5, max_value=8.0)),
    honour_apns_timestamp=st.booleans(),
)


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._start(RegistryPolicy())

    def _start(self, policy: RegistryPolicy) -> None:
        self.policy = policy
        self.reg = Registry(policy)
        self.reg.add_app(SHOP, ["ios", "android"], uninstall_tracking=True)
        self.reg.add_app(SITE, ["web"])
        self.now = 10.0  # not 0, so that an APNs timestamp can precede a registration
        # the fake provider: tokens issued per slot, oldest first
        self.issued: dict[Slot, list[str]] = {slot: [] for slot in SLOTS}
        self.serial = 0
        # the brute-force model
        self.slot_user: dict[Slot, str | None] = {}
        self.held: dict[Slot, ModelToken] = {}
        self.states: dict[str, SubscriptionState] = {}
        #: profiles whose state was set (an opt-in or an explicit change), not only defaulted
        self.set_states: set[str] = set()
        # the event log, replayed
        self.step_events: list[TokenEvent] = []
        self.replayed: dict[str, tuple[Slot, str, bool, bool]] = {}
        self.held_before: dict[str, str] = {}
        self.reg.subscribe(self._hear)

    def _hear(self, event: TokenEvent) -> None:
        self.step_events.append(event)
        state = ((event.device, event.app), event.profile, event.foreground, event.provisional)
        if event.change is Change.ADD:
            assert event.token not in self.replayed, f"add of a held token: {event}"
            self.replayed[event.token] = state
        elif event.change is Change.REMOVE:
            assert self.replayed.get(event.token) == state, f"remove of another record: {event}"
            del self.replayed[event.token]
        else:
            before = self.replayed.get(event.token)
            assert before is not None, f"update of an unheld token: {event}"
            assert before[:2] == state[:2], f"update changed slot or owner: {event}"
            assert before[2:] != state[2:], f"update with nothing changed: {event}"
            self.replayed[event.token] = state

    def _step(self, dt: float) -> None:
        """Start a step: advance the clock, remember what is held, forget last step's events."""
        self.now += dt
        self.step_events.clear()
        self.held_before = {r.token: r.profile for r in self.reg.tokens()}

    def _opt_in(self, profile: str) -> None:
        self.states[profile] = SubscriptionState.OPTED_IN
        self.set_states.add(profile)

    def _model_token(self, token: str) -> tuple[Slot, ModelToken] | None:
        for slot, record in self.held.items():
            if record.token == token:
                return slot, record
        return None

    # -- rules ---------------------------------------------------------------------------

    @initialize(
        policy=POLICIES,
        permissions=st.lists(
            st.tuples(st.booleans(), st.booleans()), min_size=len(SLOTS), max_size=len(SLOTS)
        ),
    )
    def install_everywhere(
        self, policy: RegistryPolicy, permissions: list[tuple[bool, bool]]
    ) -> None:
        """A random policy; then every device launches both apps once, so that tokens exist
        whichever rules Hypothesis enables for the run (it enables a random subset)."""
        self._start(policy)
        for slot, (foreground, provisional) in zip(SLOTS, permissions, strict=True):
            self.session_start(0.0, slot, "new", 0, foreground, provisional)

    @rule(
        dt=TIME_STEP,
        slot=st.sampled_from(SLOTS),
        report=REPORTS,
        pick=st.integers(min_value=0, max_value=MAX_TOKENS_PER_SLOT - 1),
        foreground=st.booleans(),
        provisional=st.booleans(),
    )
    def session_start(
        self, dt: float, slot: Slot, report: str, pick: int, foreground: bool, provisional: bool
    ) -> None:
        """The SDK reports a token: the one held, a freshly issued one, an older one issued to
        the slot, or none."""
        self._step(dt)
        device, app = slot
        platform = platform_of(slot)
        provisional = provisional and platform is Platform.IOS
        implicit = app == SHOP and DEVICES[device][1]
        issued = self.issued[slot]
        token: str | None
        if report == "none":
            token = None
        elif report == "held" and slot in self.held:
            token = self.held[slot].token
        elif report == "old" and issued:
            token = issued[pick % len(issued)]
        else:
            if len(issued) < MAX_TOKENS_PER_SLOT:
                self.serial += 1
                issued.append(f"{device}/{app}/{self.serial}")
            token = issued[-1]
        if platform is Platform.WEB and token is not None:
            foreground, provisional = True, False  # a web token exists only after opt-in

        returned = self.reg.session_start(
            self.now,
            device=device,
            app=app,
            platform=platform,
            token=token,
            foreground=foreground,
            provisional=provisional,
            implicit_permission=implicit,
        )

        # model (R1, R2, R4, R10)
        if slot not in self.slot_user:
            self.slot_user[slot] = anonymous_profile_id(device, app)
            self.states.setdefault(anonymous_profile_id(device, app), SubscriptionState.SUBSCRIBED)
        owner = self.slot_user[slot]
        shown = foreground or provisional
        current = self.held.get(slot)
        if owner is None or token is None:
            self.held.pop(slot, None)
            assert returned is None
            return
        if current is not None and current.token == token:
            current.owner = owner
            if self.policy.refresh_on_session_start:
                current.registered_at = self.now
                if (current.foreground, current.provisional) != (shown, provisional):
                    had_grant = current.foreground and not current.provisional
                    current.foreground, current.provisional = shown, provisional
                    if shown and not provisional and not had_grant and not implicit:
                        self._opt_in(owner)
        else:
            # a new token where notifications were already granted is a rotation, not a grant
            had_grant = current is not None and current.foreground and not current.provisional
            current = ModelToken(token, owner, shown, provisional, self.now, self.now, self.now)
            self.held[slot] = current
            if shown and not provisional and not implicit and not had_grant:
                self._opt_in(owner)
        current.last_session_at = self.now
        current.last_quiet_at = self.now
        assert returned is not None and returned.token == token

    @precondition(lambda self: bool(self.held))
    @rule(dt=TIME_STEP, data=st.data(), foreground=st.booleans(), provisional=st.booleans())
    def relaunch(self, dt: float, data: st.DataObject, foreground: bool, provisional: bool) -> None:
        """R4: the app is opened again with the same token, its permission possibly changed in
        the OS settings since the last session."""
        slot = data.draw(st.sampled_from(sorted(self.held)))
        self.session_start(dt, slot, "held", 0, foreground, provisional)

    @rule(dt=TIME_STEP, slot=st.sampled_from(SLOTS), user=st.sampled_from(USERS))
    def change_user(self, dt: float, slot: Slot, user: str) -> None:
        """R2: the token moves to the last user to log in."""
        self._step(dt)
        device, app = slot
        self.reg.change_user(self.now, device=device, app=app, user=user)
        self.states.setdefault(user, SubscriptionState.SUBSCRIBED)
        current = self.slot_user.get(slot)
        if (
            current is not None
            and current != user
            and current.startswith("anon:")
            and current in self.set_states
            and user not in self.set_states
        ):  # R14: the anonymous profile's state reaches a user who has none of their own
            self.states[user] = self.states[current]
            self.set_states.add(user)
        if self.slot_user.get(slot) == user:
            return
        self.slot_user[slot] = user
        if slot in self.held:
            self.held[slot].owner = user

    @rule(dt=TIME_STEP, slot=st.sampled_from(SLOTS))
    def log_out(self, dt: float, slot: Slot) -> None:
        """R3: nothing moves, unless the policy detaches tokens on logout."""
        self._step(dt)
        device, app = slot
        self.reg.log_out(self.now, device=device, app=app)
        if self.policy.detach_on_logout:
            self.slot_user[slot] = None
            self.held.pop(slot, None)

    @rule(dt=TIME_STEP, data=st.data(), state=st.sampled_from(list(SubscriptionState)))
    def set_subscription(self, dt: float, data: st.DataObject, state: SubscriptionState) -> None:
        self._step(dt)
        profile = data.draw(st.sampled_from(sorted(set(self.states) | set(USERS))))
        self.reg.set_subscription(self.now, profile, state)
        self.states[profile] = state
        self.set_states.add(profile)

    @rule(dt=TIME_STEP, data=st.data())
    def handle_response(self, dt: float, data: st.DataObject) -> None:
        """R5–R7: a provider answer to a send to a token of some slot: mostly the token held,
        sometimes one never issued or an old one already replaced or removed."""
        self._step(dt)
        slot = data.draw(st.sampled_from(sorted(self.held) * 3 + SLOTS))
        candidates = [*self.issued[slot], f"{slot[0]}/{slot[1]}/never"]
        if slot in self.held:
            candidates += [self.held[slot].token] * (2 * len(candidates))
        token = data.draw(st.sampled_from(candidates))
        provider = PROVIDER_OF[platform_of(slot)]
        status, reason = data.draw(st.sampled_from(answers_for(provider)))
        timestamp = None
        if provider is Provider.APNS and status == 410:
            timestamp = data.draw(
                st.one_of(st.none(), st.floats(min_value=0.0, max_value=self.now))
            )
        payload_valid = data.draw(st.booleans()) if status == 400 else True
        result = SendResult(
            provider, status, reason, timestamp=timestamp, payload_valid=payload_valid
        )
        self._answer(token, result)

    @precondition(lambda self: any(platform_of(slot) is Platform.IOS for slot in self.held))
    @rule(
        dt=TIME_STEP,
        data=st.data(),
        reason=st.sampled_from(["Unregistered", "ExpiredToken"]),
        offset=st.one_of(st.none(), st.sampled_from([-0.25, 0.0, 0.25]), st.floats(-5.0, 5.0)),
    )
    def apns_410(self, dt: float, data: st.DataObject, reason: str, offset: float | None) -> None:
        """§2: an APNs 410 for a held iOS token, its timestamp around the latest registration
        (None: no timestamp), where the stale-410 rule decides."""
        self._step(dt)
        slot = data.draw(st.sampled_from([s for s in self.held if platform_of(s) is Platform.IOS]))
        record = self.held[slot]
        timestamp = None
        if offset is not None:
            timestamp = min(self.now, max(0.0, record.registered_at + offset))
        self._answer(record.token, SendResult(Provider.APNS, 410, reason, timestamp=timestamp))

    def _answer(self, token: str, result: SendResult) -> None:
        action = classify(result)
        outcome = self.reg.handle_response(self.now, token, result)

        assert outcome.action is action
        found = self._model_token(token)
        if found is None:
            assert (outcome.held, outcome.removed, outcome.stale_410) == (False, False, False)
            return
        held_slot, record = found
        assert outcome.held
        record.last_quiet_at = self.now
        if action is Action.DELIVERED:
            record.last_accepted_at = self.now
        stale = (
            action is Action.REMOVE
            and self.policy.honour_apns_timestamp
            and result.provider is Provider.APNS
            and result.status == 410
            and result.timestamp is not None
            and record.registered_at > result.timestamp
        )
        removed = action is Action.REMOVE and not stale
        assert (outcome.removed, outcome.stale_410) == (removed, stale)
        if removed:
            del self.held[held_slot]
            estimate = self.reg.uninstall_estimate(*held_slot)
            assert estimate is not None
            last_sign = record.last_session_at
            if record.last_accepted_at is not None:
                last_sign = max(last_sign, record.last_accepted_at)
            expected = result.timestamp if result.timestamp is not None else last_sign
            assert (estimate.token, estimate.profile, estimate.detected_at) == (
                token,
                record.owner,
                self.now,
            )
            assert estimate.uninstalled_at == expected
        if action is Action.FLAG_CONFIG:
            assert self.reg.app(held_slot[1]).config_flagged_at == self.now
        if action is Action.FLAG_PAYLOAD:
            assert self.reg.app(held_slot[1]).payload_flagged_at == self.now

    @rule(dt=TIME_STEP)
    def prune_inactive(self, dt: float) -> None:
        self._step(dt)
        pruned = self.reg.prune_inactive(self.now)
        window = self.policy.prune_after_days
        expected = set()
        if window is not None:
            cutoff = self.now - window
            expected = {s for s, r in self.held.items() if r.last_session_at <= cutoff}
        assert sorted(pruned) == sorted(self.held[s].token for s in expected)
        for slot in expected:
            del self.held[slot]

    @rule(dt=TIME_STEP, app=st.sampled_from(APPS))
    def probe_targets(self, dt: float, app: str) -> None:
        """R7: uninstall tracking (on for the app only) probes tokens quiet for 24 h."""
        self._step(dt)
        targets = self.reg.probe_targets(self.now, app)
        if app != SHOP:
            assert targets == []
            return
        cutoff = self.now - PROBE_QUIET_DAYS
        quiet = {s: r for s, r in self.held.items() if s[1] == app and r.last_quiet_at <= cutoff}
        assert sorted(targets) == sorted(r.token for r in quiet.values())
        by_token = {r.token: r for r in quiet.values()}
        times = [by_token[t].last_quiet_at for t in targets]
        assert times == sorted(times), "probe targets must come oldest first"

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def a_token_has_one_owner_and_a_slot_one_token(self) -> None:
        records = list(self.reg.tokens())
        assert self.reg.token_count == len(records)
        owned = Counter(t for p in self.reg.profiles() for t in p.tokens.values())
        assert owned == Counter(r.token for r in records)
        assert all(count == 1 for count in owned.values())
        slots = Counter(r.slot for r in records)
        assert all(count == 1 for count in slots.values())
        for record in records:
            assert self.reg.token(record.token) is record
            assert self.reg.token_for(*record.slot) is record
            assert self.reg.profile(record.profile).tokens[record.slot] == record.token
            assert record.token in self.issued[record.slot], "a token held was never issued"
            assert record.platform is platform_of(record.slot)
        for slot in SLOTS:
            if slot not in slots:
                assert self.reg.token_for(*slot) is None

    @invariant()
    def the_registry_agrees_with_the_model(self) -> None:
        actual = {
            r.slot: (r.token, r.profile, r.foreground, r.provisional, r.registered_at)
            for r in self.reg.tokens()
        }
        expected = {
            slot: (m.token, m.owner, m.foreground, m.provisional, m.registered_at)
            for slot, m in self.held.items()
        }
        assert actual == expected
        for slot, m in self.held.items():
            record = self.reg.token_for(*slot)
            assert record is not None
            assert record.last_session_at == m.last_session_at
        for profile, state in self.states.items():
            assert self.reg.profile(profile).state is state, profile
        for slot in SLOTS:
            assert self.reg.current_user(*slot) == self.slot_user.get(slot)

    @invariant()
    def audiences_equal_a_recomputation_from_the_records(self) -> None:
        records = list(self.reg.tokens())
        for app in APPS:
            for platform in (None, *APP_PLATFORMS[app]):
                for foreground_only in (True, False):
                    holders = {
                        r.profile
                        for r in records
                        if r.app == app
                        and (platform is None or r.platform is platform)
                        and (r.foreground or not foreground_only)
                    }
                    targetable = {p for p in holders if self.reg.profile(p).state.targetable}
                    listed = self.reg.audience(
                        app, foreground_only=foreground_only, platform=platform
                    )
                    assert len(listed) == len(set(listed))
                    assert set(listed) == targetable
                    everyone = self.reg.audience(
                        app,
                        foreground_only=foreground_only,
                        platform=platform,
                        include_unsubscribed=True,
                    )
                    assert set(everyone) == holders
                    size = self.reg.audience_size(
                        app, foreground_only=foreground_only, platform=platform
                    )
                    assert size == len(targetable)
            campaign = {r.token for r in self.reg.campaign_tokens(app)}
            assert campaign == {
                r.token
                for r in records
                if r.app == app and r.foreground and self.reg.profile(r.profile).state.targetable
            }

    @invariant()
    def the_event_log_replays_to_the_held_tokens(self) -> None:
        held = {
            r.token: (r.slot, r.profile, r.foreground, r.provisional) for r in self.reg.tokens()
        }
        assert self.replayed == held
        removed = {e.token for e in self.step_events if e.change is Change.REMOVE}
        added = {e.token for e in self.step_events if e.change is Change.ADD}
        for token, owner in self.held_before.items():
            if token not in held:
                assert token in removed, f"{token} disappeared without a REMOVE event"
            elif held[token][1] != owner:
                assert token in removed and token in added, f"{token} moved without events"
        for event in self.step_events:
            assert event.time == self.now


TestRegistryStateful = RegistryMachine.TestCase
TestRegistryStateful.settings = settings(
    max_examples=400,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
