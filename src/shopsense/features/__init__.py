"""Shopper features: profiles (what a shopper likes) and point-in-time behaviour features
(what a shopper has been doing up to a cutoff), built from the event stream."""

from __future__ import annotations

from shopsense.features.frame import EventFrame
from shopsense.features.profile import build_profile, profiles_from_events

__all__ = ["EventFrame", "build_profile", "profiles_from_events"]
