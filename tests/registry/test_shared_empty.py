"""Profiles that hold nothing share one empty dict; the registry gives them their own on write."""

from __future__ import annotations

import copy
import pickle

import pytest

from sim.platforms import Platform
from sim.registry import Registry
from sim.registry.audience import AudienceIndex
from sim.registry.records import EMPTY, Profile, is_shared, one_each


def test_a_new_profile_holds_the_shared_empty_dicts_which_refuse_writes():
    profile = Profile("ann")
    assert profile.tokens is EMPTY and profile.any_counts is EMPTY
    assert profile.foreground_counts is EMPTY and profile.tokens == {}
    with pytest.raises(TypeError):
        profile.tokens[("phone", "shop")] = "t1"
    with pytest.raises(TypeError):
        profile.any_counts.setdefault(("shop", None), 1)
    assert EMPTY == {}


def test_a_profile_gets_its_own_dicts_with_a_token_and_gives_them_back_without():
    reg = Registry()
    reg.add_app("shop", [Platform.IOS])
    reg.change_user(0.0, device="phone", app="shop", user="ann")
    ann = reg.profile("ann")
    assert ann.tokens is EMPTY
    reg.session_start(1.0, device="phone", app="shop", platform="ios", token="t1", foreground=True)
    assert ann.tokens == {("phone", "shop"): "t1"}
    assert ann.foreground_counts == {("shop", Platform.IOS): 1, ("shop", None): 1}
    reg.session_start(2.0, device="phone", app="shop", platform="ios", token=None, foreground=True)
    assert ann.tokens is EMPTY and ann.any_counts is EMPTY and ann.foreground_counts is EMPTY
    assert EMPTY == {}
    reg.session_start(3.0, device="phone", app="shop", platform="ios", token="t2", foreground=False)
    assert ann.tokens == {("phone", "shop"): "t2"} and ann.foreground_counts is EMPTY
    assert reg.audience("shop", foreground_only=False) == ["ann"]


def test_the_shared_empty_dict_stays_shared_through_copies_and_pickles():
    profile = Profile("ann")
    assert pickle.loads(pickle.dumps(profile)).tokens is EMPTY
    assert copy.deepcopy(profile).any_counts is EMPTY
    assert copy.copy(EMPTY) is EMPTY


def test_profiles_holding_one_token_share_read_only_counts_until_their_second():
    reg = Registry()
    reg.add_app("shop", [Platform.IOS, Platform.ANDROID])
    for device in ("phone", "tablet"):
        reg.session_start(
            0.0, device=device, app="shop", platform="ios", token=device, foreground=True
        )
    ann, bob = reg.profile("anon:phone:shop"), reg.profile("anon:tablet:shop")
    assert ann.any_counts is bob.any_counts is ann.foreground_counts  # one shared dict
    assert ann.any_counts == {("shop", Platform.IOS): 1, ("shop", None): 1}
    assert one_each((("shop", Platform.IOS), ("shop", None))) is ann.any_counts
    with pytest.raises(TypeError):
        ann.any_counts[("shop", None)] = 2
    assert pickle.loads(pickle.dumps(ann)).any_counts is ann.any_counts
    assert copy.deepcopy(ann.foreground_counts) is ann.foreground_counts

    reg.change_user(1.0, device="phone", app="shop", user="carl")
    reg.change_user(1.0, device="tablet", app="shop", user="carl")  # carl holds two tokens
    carl = reg.profile("carl")
    assert carl.any_counts == {("shop", Platform.IOS): 2, ("shop", None): 2}
    assert not is_shared(carl.any_counts)
    assert ann.any_counts is EMPTY and bob.foreground_counts is EMPTY
    assert reg.audience("shop") == ["carl"] and reg.audience_size("shop") == 1
    reg.session_start(2.0, device="tablet", app="shop", platform="ios", token=None, foreground=True)
    reg.session_start(2.0, device="phone", app="shop", platform="ios", token=None, foreground=True)
    assert carl.any_counts is EMPTY and reg.audience("shop") == []
    assert bob.any_counts is EMPTY


def test_a_shared_one_token_count_refuses_a_removal_under_another_key():
    index = AudienceIndex()
    ann = Profile("ann")
    index.add(ann, "shop", Platform.IOS, False)
    with pytest.raises(AssertionError):
        index.remove(ann, "shop", Platform.ANDROID, False)
    assert ann.any_counts == {("shop", Platform.IOS): 1, ("shop", None): 1}
