"""Typed, layered settings. Each component receives only its own section.

Only `cli` and `api` read the environment (through `Settings()`); everything else is handed
a section object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Section(BaseModel):
    """A settings section: each field's description is the docstring under it."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class StoreSettings(Section):
    url: str = ""
    """Store URL: sqlite:///path/shop.db or memory://. Empty means sqlite:///<home>/shop.db."""


class IngestSettings(Section):
    batch_size: int = Field(5000, ge=1)
    """Rows per committed transaction."""
    max_rejects_logged: int = Field(1_000_000, ge=0)
    """Cap on rejects-file lines."""
    max_future_skew_s: float = Field(600.0, ge=0)
    """Events timed more than this after the server's clock are refused by the API (file imports
    refuse more than 10 minutes ahead)."""
    earliest_event_ts: float = Field(946_684_800.0, ge=0)
    """Live events (the API) timed before this (unix s; 2000-01-01) are refused; file imports
    accept history back to 1970."""


class SearchSettings(Section):
    encoder: str = "use"
    """Text encoder: use | e5 | none."""
    exact_threshold: int = 20_000
    """Below this many items the vector index is exact; above it, faiss IVF wraps it (measured:
    -0.002 nDCG@10, about 5x faster at 54k)."""
    backend: Literal["auto", "embedded", "postgresql", "pgvector"] = "auto"
    """Where the keyword and vector candidate lists live: embedded (in process), postgresql
    (full-text search + pgvector HNSW, filters pushed down), pgvector (BM25F in process +
    pgvector HNSW), or auto (postgresql when the store URL is postgresql://, else embedded)."""
    retrieval_url: str = ""
    """PostgreSQL URL for the postgresql backend (e.g. a read replica); empty: the store URL."""
    hnsw_ef_search: int = Field(100, ge=1, le=1000)
    """pgvector hnsw.ef_search (measured recall@10 0.95-0.98 at 100)."""
    stage_cache_mb: float = Field(128.0, ge=0)
    """Memory for the shopper-independent stages of recent queries (matches, features, ranker
    scores, facets); 0 disables. Cleared by every catalogue or model change; the personal stage
    always runs per request."""
    stage_cache_ttl_s: float = Field(600.0, ge=0)
    """Longest a cached query stage lives (popularity and freshness drift)."""
    warm_queries: int = Field(2000, ge=0)
    """After new models load, the stages of the shop's this-many most searched queries are computed
    in the background (cache warming); 0 disables."""
    query_vectors: int = Field(20_000, ge=0)
    """Query vectors kept per process (an LRU; 2 KB each with USE). After the warmed stages and
    shoppers, the vectors of the shop's this-many most searched queries are encoded in batches
    (~0.6 ms of CPU each, against ~2-7 ms for one query alone), so a search the stage cache
    does not hold skips the encoder; 0 keeps the cache at 4,096 and encodes nothing ahead."""
    suggest_min_shoppers: int = Field(10, ge=1)
    """A logged query is suggested only when at least this many distinct shoppers searched it (and
    it returns results); counts are never shown."""


class RecsSettings(Section):
    dismiss_half_life_days: float = Field(14.0, gt=0)
    retrain_interval_s: float = Field(3600.0, ge=0)
    """0 disables scheduled retraining."""
    explore_epsilon: float = Field(0.0, ge=0, le=1)
    """For-you exploration: the share of requests shown a shuffled top `explore_pool` (each result
    carries its propensity, for off-policy evaluation); 0: off."""
    explore_pool: int = Field(20, ge=1, le=1000)
    """Items an exploring list is drawn from."""
    full_retrain_every: int = Field(1, ge=1)
    """Scheduled runs between full retrains; the runs between continue the serving SASRec
    (incremental). 1 (default): always from scratch; incremental measured 7-9x cheaper but
    0.0040 NDCG@10 worse on Beauty (benchmarks/README.md, Recommendations)."""
    eval_after_training: bool = True
    """After each background training, run `shopsense eval report` in the background: the
    dashboard's Evaluation tab and the version's card get its figures."""
    eval_sasrec_cpu_seconds: float = Field(30.0, gt=0, le=3600)
    """SASRec's CPU budget inside that evaluation."""


class ServeSettings(Section):
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: list[str] = Field(default_factory=list)
    max_batch_events: int = 1000
    """Largest batch accepted by POST /v1/events."""
    events_inline_max: int = Field(50, ge=0)
    """POST /v1/events batches of at most this many rows commit on the event loop (a reply
    waiting for a thread cost a median 30 ms); larger ones on a worker thread, so that a
    1,000-event import (~50 ms of work) never holds the loop from cheap requests."""
    max_body_bytes: int = Field(2_000_000)
    rate_limit_per_s: float = 200.0
    """Per-key sustained requests/s (burst = 2x)."""
    threads: int = Field(4, ge=1, le=1000)
    """Threads running request handlers in one process (CPU-bound Python, serialised by the GIL; 4
    measured 17 % less CPU a request and 1/3 the median latency of anyio's default 40:
    benchmarks/README.md, Service)."""
    answer_cache_size: int = Field(20_000, ge=0)
    """Actors whose finished recommendation lists are kept; 0 disables. An actor's own event, a
    catalogue edit, a model swap or an erasure drops them at once."""
    answer_depth: int = Field(24, ge=1, le=1000)
    """How deep a shopper's recommendation list is computed and cached: requests for up to this
    many (the storefront's 12, the API's 10) share one answer."""
    warm_shoppers: int = Field(2000, ge=0)
    """After new models load, the recommendation lists of this many most recently active shoppers
    are computed in the background (cache warming); 0 disables."""
    profile_events_cached: int = Field(300_000, ge=1)
    """Events held in memory for the shoppers whose profiles are cached, so a profile is rebuilt
    after their next event without reading their history back (~0.9 ms at 170 events)."""
    answer_cache_ttl_s: float = Field(600.0, ge=0)
    """Longest a cached list lives (trending, popularity and other shoppers' co-visits drift;
    the shopper's own events drop it at once). 10 min: after 18,000 events of other shoppers
    (10 min of the service benchmark's event rate) a recomputed demo list keeps 97.8 % of its
    top 10 (`benchmarks/answer_drift.py`), and a shorter life made every warmed list a miss
    again within minutes (benchmarks/README.md, Service)."""
    recompute_after_event: bool = False
    """True: a shopper's event that drops their cached list has it recomputed at once, off the
    request path, by the process that took the event, and shared with sibling workers
    (pipeline/recompute.py). Off by default: on the service benchmark (quiet machine, log
    queries) it cost CPU, 7.89 -> 9.58 ms a request, 211.9 -> 176.1 requests/s, since most
    recomputed lists were not asked for again before the shopper's next event; measured again
    in session 11 (benchmarks/README.md, Service): 15 % more server CPU and every p99 about
    twice as long. False: each worker recomputes a list on its next request."""
    share_computed_lists: bool = True
    """With sibling workers (`serve --workers N`): a default for-you list a request computed
    on a miss is published for the siblings (pipeline/recompute.py), which adopt it instead
    of computing it again, so a shopper's event costs one computation, not one per worker."""
    require_keys: bool = True
    """False only for local demos and tests."""
    client_rate_limit_per_s: float = Field(100.0, ge=0)
    """Requests/s one client address may send (burst 2x), beside the per-key limit; 0 disables."""
    shopper_rate_limit_per_s: float = Field(20.0, ge=0)
    """Requests/s carrying one shopper's verified token (burst 2x); 0 disables."""
    client_server_ms_per_s: float = Field(250.0, ge=0)
    """Search CPU time (ms) one client address may use a second, charged after each search; over
    it, 429 until repaid. 0 disables."""
    client_server_burst_s: float = Field(4.0, gt=0)
    """Seconds of that server-time rate a client may use at once (burst = 1 s of handler time at
    the defaults)."""
    auth_failures_per_s: float = Field(1.0, gt=0)
    """Failed authentications per s an address may make once its burst is spent; beyond, 429 before
    any key is checked."""
    auth_failure_burst: float = Field(20.0, ge=1)
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses / CIDRs of reverse proxies whose X-Forwarded-For names the client (its last hop)."""
    max_query_chars: int = Field(200, ge=1, le=500)
    """Longest search query accepted (422 beyond; the API's hard ceiling is 500)."""
    offload_query_chars: int = Field(48, ge=0)
    """Searches with a longer query (the expensive ones) run one at a time off the event loop, so
    cheap requests are not queued behind them; 0 offloads every search."""
    fast_routes: bool = True
    """`GET /v1/search`, `/v1/recommend`, `/v1/suggest` and `POST /v1/events` answered without
    FastAPI's per-request routing and dependency solving, by the same endpoint functions
    (api/fast.py); false: by FastAPI."""
    offload_cold_searches: bool = True
    """Searches whose query stage is not cached (cold: understanding, retrieval, features, ~8 ms
    of CPU on the demo's long-tail queries, `benchmarks/request_cpu.py`), whatever their length,
    take the expensive lane (`run_expensive`: on the loop when alone, see below); searches
    answered from the stage cache run on the event loop (pipeline/warm_keys.py)."""
    expensive_inline_when_alone: bool = True
    """A cold search or a recommendation miss that is the only request in flight in its worker
    runs on the event loop instead of the expensive lane: a lane's thread shares the GIL with
    the loop, and each C call that lets the GIL go (LightGBM's, some numpy ones) waits up to the
    switch interval to take it back, so under load a ~10 ms search took tens of ms of wall time
    there. A request arriving meanwhile waits for it (one cold search, ~10 ms); while other
    requests are in flight the lane keeps them apart as before. Long queries
    (`offload_query_chars`) always take the lane."""
    client_lane_burst_s: float = Field(0.2, ge=0, le=60)
    """Seconds of the server-time rate (`client_server_ms_per_s`) one client's expensive work
    may take from the expensive lane at once. The lane's time a client's cold searches held is
    charged to a bucket of its own; a client in debt, or with expensive work already in the lane,
    waits (no place in the lane, no CPU: never refused for it) before its next one runs, so a
    client's burst of cold searches cannot keep the lane's thread — and the GIL it shares with
    the event loop — busy while other clients' cheap requests wait (benchmarks/README.md,
    Abuse). 0: no pacing, no per-client order (before session 9)."""
    client_expensive_in_flight: int = Field(0, ge=0, le=1000)
    """Expensive searches one client address may have running or queued at once; beyond, 429
    (after a pause of up to 1 s that costs no CPU) instead of a place in the queue. 0 (default):
    no cap — on the loaded 2-core machine it did not help the cheap query under a flood
    (benchmarks/README.md, Abuse); it keeps one client from filling the expensive queue."""
    tarpit_s: float = Field(1.0, ge=0, le=10)
    """The longest a refused request (429) is held before it is answered (its Retry-After, up to
    this): the pause costs no CPU, and a client resending at once cannot make the server spend
    its loop on instant refusals (benchmarks/README.md, Abuse). 0 answers at once."""
    gil_switch_interval_ms: float = Field(5.0, gt=0, le=100)
    """How long a serving process's thread may hold the GIL while another waits for it
    (`sys.setswitchinterval`; Python's default is 5 ms). The event loop answering cheap requests
    waits up to this long each time it takes the GIL back from the expensive lane's thread."""
    http_parser: Literal["httptools", "h11"] = "httptools"
    """The HTTP/1.1 parser under uvicorn: httptools (llhttp, in C) or h11 (pure Python, about
    0.5 ms more server CPU a request); both answer malformed requests in the documented JSON
    shape (api/transport.py)."""
    gc_thresholds: tuple[int, int, int] = (700, 10, 1000)
    """A serving process's `gc.set_threshold`: young collections as CPython's default, a full one
    after 1,000 (CPython: 10) middle ones. A full pass walks every live container (tens of ms
    with warm caches): at the default it came every few seconds and was the service's p99
    (benchmarks/README.md, Service)."""


class PrivacySettings(Section):
    retention_days: float = Field(0, ge=0)
    """Purge events, impressions and zero-result log lines older than this; 0 keeps all."""
    retention_interval_s: float = Field(3600.0, ge=1)
    """How often retention runs in every serving mode (once per store across workers)."""
    model_retention_days: float = Field(30.0, ge=0)
    """Delete saved recommendation model versions older than this (never the current one); 0 keeps
    every version."""
    vacuum_interval_s: float = Field(86400.0, ge=60)
    """Scheduled full VACUUM (space only: erased rows are zeroed at delete time)."""
    zero_result_min_shoppers: int = Field(10, ge=1)
    """A zero-result query is logged once this many distinct shoppers searched it."""
    dp_epsilon: float = Field(0.1, gt=0)
    """Default epsilon per unit of aggregate weight (a full release spends ~1.25-1.45)."""
    dp_budget_epsilon: float = Field(10.0, gt=0)
    """Total epsilon all DP releases may spend in any rolling window of dp_budget_days."""
    dp_budget_delta: float = Field(1e-4, gt=0, lt=1)
    """Total delta in that window."""
    dp_budget_days: float = Field(30.0, gt=0)
    """The budget's rolling window."""
    per_user_cap: int = Field(10, ge=1)
    """Max events one user contributes to an aggregate."""
    shopper_token_ttl_s: float = Field(86400.0, ge=60, le=90 * 86400)
    """Lifetime of a shopper token (personal reads)."""
    storefront_login: bool = False
    """Let the bundled storefront sign in a shopper with no history yet by id alone, as a demo
    home always does (`POST /web/session`). Off, a shop's shoppers sign in through its backend
    (`POST /v1/shopper-tokens`): on, whoever first claims a not-yet-seen id holds the token
    that reads that shopper's data once they start shopping."""


class Settings(BaseSettings):
    """The whole settings tree. Environment: SHOPSENSE_HOME, SHOPSENSE_SERVE__PORT, ..."""

    model_config = SettingsConfigDict(env_prefix="SHOPSENSE_", env_nested_delimiter="__",
                                      use_attribute_docstrings=True)

    home: Path = Path("./shopsense-data")
    """Data directory."""
    store: StoreSettings = StoreSettings()
    ingest: IngestSettings = IngestSettings()
    search: SearchSettings = SearchSettings()
    recs: RecsSettings = RecsSettings()
    serve: ServeSettings = ServeSettings()
    privacy: PrivacySettings = PrivacySettings()

    @property
    def store_url(self) -> str:
        return self.store.url or f"sqlite:///{(self.home / 'shop.db').resolve()}"
