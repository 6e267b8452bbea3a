"""Scale-out parts chosen by URL: Redis online state, the Kafka event log, Ray helpers, and the
loopback servers their tests run against. The embedded default needs none of them."""
