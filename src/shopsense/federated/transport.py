"""The federation over the network: a Flower coordinator and clients, SecAgg+ on.

Coordinator (`serve_coordinator`): Flower's Fleet API (gRPC request-response) on `address`
with an in-memory link state, and a ServerApp driving FedAvg / FedProx through Flower's
SecAgg+ workflow, so it only ever sees the masked sum of the clients' updates. It holds no
model of its own: the first weights come from one client (Flower's default), so the same
coordinator serves SASRec and propensity federations.
Client (`join`): a Flower SuperNode whose ClientApp carries `secaggplus_mod`; each round it
loads the global weights, trains its local epochs on its own data, and answers the masked
update; after the last round it keeps the global weights and returns its report.
Flower 1.13 (pinned): the versions that fit shopsense's pins; see pyproject.toml.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopsense.federated.rounds import ServerOpt

# Flower reports start / stop events to telemetry.flower.ai unless told not to: a federation
# that keeps data at home does not phone home either, and without a network route those
# calls (60 s timeout, joined at exit) kept a finished `join` process alive.
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")

NDArrays = list[np.ndarray]
Evaluate = Callable[[], dict[str, float]]


@dataclass(frozen=True)
class CoordinatorPlan:
    clients: int = 2
    rounds: int = 5
    mu: float = 0.0  # > 0: FedProx
    secagg: bool = True
    max_weight: float = 1000.0  # SecAgg+ bound on one client's weight (Flower's default)
    server: ServerOpt = field(default_factory=ServerOpt)  # FedAvgM / FedAdam on the mean


def _strategy(plan: CoordinatorPlan) -> Any:
    from flwr.server.strategy import FedAvg, FedProx

    def config(server_round: int) -> dict[str, Any]:
        return {"round": server_round, "rounds": plan.rounds, "max_weight": plan.max_weight}

    def mean_metrics(rows: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
        total = sum(n for n, _ in rows) or 1
        keys = {k for _, m in rows for k in m}
        return {k: sum(n * float(m.get(k, 0.0)) for n, m in rows) / total for k in keys}

    options = {"fraction_fit": 1.0, "fraction_evaluate": 1.0, "min_fit_clients": plan.clients,
               "min_evaluate_clients": plan.clients, "min_available_clients": plan.clients,
               "on_fit_config_fn": config, "on_evaluate_config_fn": config,
               "evaluate_metrics_aggregation_fn": mean_metrics}
    base = FedProx if plan.mu > 0 else FedAvg
    if plan.mu > 0:
        options["proximal_mu"] = plan.mu
    plain = plan.server.kind == "avg" and plan.server.lr == 1.0
    return base(**options) if plain else _server_step(base, plan.server)(**options)


def _server_step(base: type, server: ServerOpt) -> type:
    """`base` (FedAvg / FedProx) whose aggregate goes through the server optimiser: the
    round's starting weights come from configure_fit, the (SecAgg+) mean from aggregate_fit."""
    from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays

    class ServerStep(base):  # type: ignore[misc, valid-type]
        step = staticmethod(server.stepper())
        current: list[np.ndarray] | None = None

        def configure_fit(self, server_round: int, parameters: Any, manager: Any) -> Any:
            self.current = parameters_to_ndarrays(parameters)
            return super().configure_fit(server_round, parameters, manager)

        def aggregate_fit(self, server_round: int, results: Any, failures: Any) -> Any:
            params, metrics = super().aggregate_fit(server_round, results, failures)
            if params is None or self.current is None:
                return params, metrics
            stepped = self.step(self.current, parameters_to_ndarrays(params))
            return ndarrays_to_parameters(stepped), metrics

    return ServerStep


def server_app(plan: CoordinatorPlan, history: dict[str, Any]) -> Any:
    from flwr.server import LegacyContext, ServerApp, ServerConfig
    from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow

    app = ServerApp()

    @app.main()
    def main(driver: Any, context: Any) -> None:
        legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=plan.rounds),
                               strategy=_strategy(plan))
        # Every client holds a share of every other's key; 2/3 of them (all, with 2
        # clients) rebuild a dropped client's mask.
        fit = SecAggPlusWorkflow(num_shares=1.0,
                                 reconstruction_threshold=1.0 if plan.clients <= 2 else 2 / 3,
                                 max_weight=plan.max_weight) if plan.secagg else None
        DefaultWorkflow(fit_workflow=fit)(driver, legacy)
        history["metrics"] = legacy.history.metrics_distributed
        history["losses"] = legacy.history.losses_distributed

    return app


def serve_coordinator(address: str, plan: CoordinatorPlan,
                      tls: tuple[bytes, bytes, bytes] | None = None) -> dict[str, Any]:
    """Serve one federated run to completion on `address` (host:port); returns its history.
    `tls` = (CA certificate, certificate, private key), PEM; None serves plaintext."""
    from flwr.common import ConfigsRecord, Context, RecordSet
    from flwr.server.app import _run_fleet_api_grpc_rere
    from flwr.server.driver.inmemory_driver import InMemoryDriver
    from flwr.server.run_serverapp import run as run_server_app
    from flwr.server.superlink.ffs.ffs_factory import FfsFactory
    from flwr.server.superlink.linkstate import LinkStateFactory

    if plan.clients < 2:
        raise ValueError("SecAgg+ and FedAvg need at least 2 clients")
    state_factory = LinkStateFactory(":flwr-in-memory-state:")
    history: dict[str, Any] = {"address": address, "plan": plan.__dict__}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shopsense-ffs-") as ffs_dir:
        server = _run_fleet_api_grpc_rere(address, state_factory, FfsFactory(ffs_dir), tls)
        try:
            run_id = state_factory.state().create_run(None, None, None, {}, ConfigsRecord())
            driver = InMemoryDriver(state_factory)
            driver.set_run(run_id)
            context = Context(run_id=run_id, node_id=0, node_config={}, state=RecordSet(),
                              run_config={})
            run_server_app(driver, context, server_app_dir="",
                           loaded_server_app=server_app(plan, history))
        finally:
            server.stop(grace=2.0)
    history["wall_s"] = round(time.perf_counter() - started, 1)
    history["secagg"] = "SecAgg+ (flwr)" if plan.secagg else "off"
    history["plan"] = {**plan.__dict__, "server": plan.server.__dict__}
    history["transport"] = "grpc+tls" if tls is not None else "grpc (insecure)"
    return history


class FederatedClient:
    """What a home brings to a run: a participant (weights / load / fit_round), its data, and
    how to evaluate the weights it holds (on its own validation targets)."""

    def __init__(self, participant: Any, data: Any, evaluate: Evaluate,
                 local_epochs: int = 1) -> None:
        self.participant, self.data, self.evaluate_fn = participant, data, evaluate
        self.local_epochs = local_epochs
        self.rounds: list[dict[str, Any]] = []
        self.done = threading.Event()
        self.bytes_received = 0
        self.bytes_sent = 0

    def numpy_client(self) -> Any:
        from flwr.client import NumPyClient

        outer = self

        class _Client(NumPyClient):
            def get_parameters(self, config: dict[str, Any]) -> NDArrays:
                return outer.participant.weights()

            def fit(self, parameters: NDArrays, config: dict[str, Any]
                    ) -> tuple[NDArrays, int, dict[str, Any]]:
                outer.bytes_received += sum(p.nbytes for p in parameters)
                outer.participant.load(parameters)
                mu = float(config.get("proximal_mu", 0.0))
                if mu > 0:
                    outer.participant.mu = mu
                result = outer.participant.fit_round(outer.data, outer.local_epochs)
                weights = outer.participant.weights()
                outer.bytes_sent += sum(w.nbytes for w in weights)
                # SecAgg+ quantises weight / max_weight: a larger client counts as max_weight.
                weight = min(int(result["examples"]), int(config.get("max_weight", 1000)))
                return weights, weight, {"loss": float(result["loss"]),
                                         "examples": int(result["examples"])}

            def evaluate(self, parameters: NDArrays, config: dict[str, Any]
                         ) -> tuple[float, int, dict[str, Any]]:
                outer.participant.load(parameters)
                metrics = outer.evaluate_fn()
                outer.rounds.append({"round": int(config.get("round", 0)), **metrics})
                if int(config.get("round", 0)) >= int(config.get("rounds", 1)):
                    outer.done.set()
                return 1.0 - float(metrics.get("score", 0.0)), 1, metrics

        return _Client()


class _PollEvery:
    """Flower 1.13's node sleeps a fixed 3 s whenever it finds no message, and a SecAgg+
    round is five exchanges (setup, share keys, masked vectors, unmask, evaluate): ~20 s of
    idle polling per round. This stands in for that module's `time` with a shorter idle
    sleep; every other sleep (backoff, reconnect) is unchanged."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        time.sleep(self.seconds if seconds == 3 else seconds)


def _keep_channels_alive() -> None:
    """After the node has left: move every object alive now, the node's gRPC channels
    among them, out of the garbage collector's reach. A channel whose TLS handshake failed
    keeps reconnecting in gRPC's threads; when the interpreter's exit-time collection ran its
    finaliser (`_ChannelCallState.__del__` -> channel.close), close waited on that channel
    for ever, and a `join` that had already printed its error never exited (seen with the
    USE encoder loaded for --title-init: tests/federated/test_transport.py; py-spy showed
    the main thread in `__del__` under `gc_collect_main` after the script had returned).
    Exit frees the memory without the finalisers."""
    import gc

    gc.freeze()


@dataclass(frozen=True)
class Link:
    """How a home reaches the coordinator: TLS (trusting `root_certificates`, PEM, or the
    system's CAs when None) unless `insecure`."""

    root_certificates: bytes | None = None
    insecure: bool = False


def join(coordinator: str, client: FederatedClient, *, timeout_s: float = 3600.0,
         secagg: bool = True, poll_s: float = 0.2, link: Link | None = None) -> dict[str, Any]:
    """Take part in the coordinator's run until its last round; returns the client's log.
    Call from the main thread (Flower's node installs signal handlers)."""
    link = link or Link()
    import flwr.client.app as node_module
    from flwr.client import ClientApp
    from flwr.client.app import start_client_internal
    from flwr.client.mod import secaggplus_mod

    app = ClientApp(client_fn=lambda context: client.numpy_client().to_client(),
                    mods=[secaggplus_mod] if secagg else [])

    node_returned = threading.Event()

    def leave_after_last_round() -> None:
        # Flower's node loop runs in the main thread (it owns the signal handlers) and
        # leaves the federation gracefully on SIGTERM; the last reply is sent by then. On
        # timeout the same signal ends a node still waiting for a run that never finishes.
        if client.done.wait(timeout_s):
            time.sleep(1.0)
        if not node_returned.is_set():
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=leave_after_last_round, name="leave", daemon=True).start()
    node_module.time = _PollEvery(poll_s)  # type: ignore[assignment]

    def not_connected(signum: int, frame: Any) -> None:  # Flower's own handler replaces
        raise TimeoutError(f"no run at {coordinator} within {timeout_s:.0f} s")  # this one

    signal.signal(signal.SIGTERM, not_connected)
    try:
        start_client_internal(server_address=coordinator, node_config={},
                              load_client_app_fn=lambda *_: app, insecure=link.insecure,
                              root_certificates=link.root_certificates,
                              transport="grpc-rere", max_wait_time=timeout_s)
    finally:
        _keep_channels_alive()
    node_returned.set()
    if not client.done.is_set() and not client.rounds:
        raise TimeoutError(
            f"took part in no round at {coordinator} within {timeout_s:.0f} s: no coordinator "
            "there, or the link failed (with TLS, --root-cert must be the CA that signed the "
            "coordinator's certificate; a plaintext coordinator needs --insecure)")
    if not client.done.is_set():
        raise TimeoutError(f"the run at {coordinator} did not finish in {timeout_s:.0f} s")
    return {"coordinator": coordinator, "tls": not link.insecure, "rounds": client.rounds,
            "bytes_received": client.bytes_received, "bytes_sent": client.bytes_sent}
