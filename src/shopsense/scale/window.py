"""How much online state each actor keeps: shared by the in-memory and Redis online states."""

from __future__ import annotations

RECENT_ITEMS = 50      # per actor
COVISIT_WINDOW = 5     # an item co-occurs with this many previous items of the same actor
SEEN_TTL_S = 7 * 86400  # how long an event id is remembered for deduplication
