"""Settings of the scale-out parts (environment `SHOPSENSE_SCALE_*`). Empty URLs keep the
embedded default: in-process state, events written straight to the store, no Ray."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ScaleSettings(BaseSettings):
    """Where the shared engines are. The store itself is `SHOPSENSE_STORE__URL`
    (`postgresql://...` for several replicas)."""

    model_config = SettingsConfigDict(env_prefix="SHOPSENSE_SCALE_")

    redis_url: str = Field("", description="redis://host:port/db: shared online state and "
                           "rate limits. Empty: in process.")
    kafka_url: str = Field("", description="kafka://host:port/topic: the event log. Empty: "
                           "events are written to the store by the replica that accepts them.")
    kafka_partitions: int = Field(6, ge=1, description="Partitions when the topic is created.")
    writer_group: str = Field("shopsense-writers", description="Consumer group of the "
                              "workers that write the store.")
    key_prefix: str = Field("shopsense", description="Prefix of every Redis key.")
    consumer_config: dict[str, str] = Field(default_factory=dict, description="Extra "
                                            "librdkafka consumer settings.")
    ray_address: str = Field("", description="Ray cluster address; empty: local Ray.")
