"""Commands: `shopsense federated serve-coordinator | join | simulate | train-private`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from shopsense.cli.common import emit, fail, settings, sub_app
from shopsense.federated.personalise import AdaptPlan

ADAPT = AdaptPlan()  # what a home serves after the rounds (join and simulate alike)



# options `join` and `simulate` share (one definition, one help text)
SPARSE_ITEMS = typer.Option(False, "--sparse-items/--dense-items",
                            help="SASRec: a step moves only the item-table rows its batch "
                            "used (not under DP-SGD).")
TITLE_TERM = typer.Option(False, "--title-term/--no-title-term",
                          help="SASRec: scores + a learned title-cosine term, the transformer "
                          "gated from 0, so training starts at the title neighbour (needs "
                          "titles).")
ADAPT_CLEAR = typer.Option(ADAPT.clear_gain, "--adapt-clear-gain/--adapt-any-gain",
                           help="SASRec: serve an adapted epoch only where its paired gain "
                           "on the validation cases is clear of noise (95 % interval > 0).")
BATCH_SIZE = typer.Option(None, "--batch-size", help="SASRec sequences a step (default: "
                          "the home's SASRec's, as its loss and rate).", show_default=False)
ADAPT_MU = typer.Option(ADAPT.mu, "--adapt-mu", help="SASRec: > 0, each adaptation epoch "
                        "pays mu/2 ||w - w_global||^2 (Ditto's proximal term).")

def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    fed = sub_app(app, "federated", "Federated training (Flower, SecAgg+) and DP-SGD (Opacus).")

    @fed.command("serve-coordinator")
    def serve_coordinator(
        address: str = typer.Option("127.0.0.1:8210", "--address", help="host:port to serve."),
        clients: int = typer.Option(2, "--clients", help="Clients every round waits for."),
        rounds: int = typer.Option(10, "--rounds"),
        mu: float = typer.Option(0.0, "--fedprox-mu", help="> 0: FedProx."),
        no_secagg: bool = typer.Option(False, "--no-secagg", help="Plain FedAvg sums."),
        server: str = typer.Option("avg", "--server", help="avg | avgm (server momentum: "
                                   "faster from random item tables, worse from title-seeded "
                                   "ones, join's default) | adam (FedAdam)."),
        server_lr: float = typer.Option(1.0, "--server-lr"),
        server_momentum: float = typer.Option(0.9, "--server-momentum"),
        ca_cert: Path = typer.Option(None, "--ca-cert", help="PEM: the CA that signed --cert."),
        cert: Path = typer.Option(None, "--cert", help="PEM: this coordinator's certificate."),
        key: Path = typer.Option(None, "--key", help="PEM: its private key."),
        insecure: bool = typer.Option(False, "--insecure", help="Plaintext gRPC (trusted "
                                                                "networks, tests only)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Coordinate one federated run (FedAvg / FedProx over SecAgg+, TLS) and exit."""
        from shopsense.federated.rounds import ServerOpt
        from shopsense.federated.tls import ServerTLS, TLSError
        from shopsense.federated.transport import CoordinatorPlan
        from shopsense.federated.transport import serve_coordinator as serve

        if clients < 2 or rounds < 1:
            fail("--clients must be >= 2 and --rounds >= 1")
        if insecure and any(p is not None for p in (ca_cert, cert, key)):
            fail("--insecure and --ca-cert / --cert / --key exclude each other")
        try:
            tls = None if insecure else ServerTLS.read(ca_cert, cert, key).triple()
            plan = CoordinatorPlan(clients, rounds, mu, not no_secagg,
                                   server=ServerOpt(server, server_lr, server_momentum))
        except (TLSError, ValueError) as exc:
            fail(str(exc))
        emit(serve(address, plan, tls), as_json)

    @fed.command("make-certs")
    def make_certs(
        out: Path = typer.Option(..., "--out", help="Folder for ca.pem/.key, server.pem/.key."),
        hosts: list[str] = typer.Option(["127.0.0.1", "localhost"], "--host",
                                        help="Name or address the coordinator is reached by "
                                             "(repeat)."),
        days: int = typer.Option(365, "--days"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """A private CA and a coordinator certificate signed by it (give homes ca.pem)."""
        from shopsense.federated.tls import TLSError, make_certificates

        if days < 1:
            fail("--days must be >= 1")
        try:
            emit(make_certificates(out, list(hosts), days=days), as_json)
        except TLSError as exc:
            fail(str(exc))

    @fed.command("join")
    def join_cmd(
        ctx: typer.Context,
        coordinator: str = typer.Option(..., "--coordinator", help="host:port of the run."),
        model: str = typer.Option("sasrec", "--model", help="sasrec | propensity"),
        events: Path = typer.Option(None, "--events", help="Events file (default: the home's "
                                                            "store)."),
        catalog: Path = typer.Option(None, "--catalog", help="Products file (item index)."),
        local_epochs: int = typer.Option(1, "--local-epochs"),
        dim: int = typer.Option(64, "--dim", help="SASRec width (all clients alike)."),
        dp_epsilon: float = typer.Option(0.0, "--dp-epsilon", help="> 0: DP-SGD budget."),
        rounds_hint: int = typer.Option(10, "--rounds", help="Rounds expected (DP noise)."),
        share: str = typer.Option("all", "--share", help="all | body (own item table)."),
        batch_size: int | None = BATCH_SIZE,
        title_init: bool | None = typer.Option(None, "--title-init/--no-title-init",
                                               help="Seed the item table from catalogue "
                                               "titles (--catalog or the home's products); "
                                               "default: where they have titles."),
        sparse_items: bool = SPARSE_ITEMS,
        title_term: bool = TITLE_TERM,
        adapt_epochs: int = typer.Option(ADAPT.epochs, "--adapt-epochs", help="SASRec: "
                                         "after the rounds, up to N local epochs from the "
                                         "global weights, kept only where this home's "
                                         "validation improves (0: none; never under DP)."),
        own_round: bool = typer.Option(ADAPT.own_round, "--own-round/--last-round",
                                       help="SASRec: keep the global round best on this "
                                       "home's validation, or the last one."),
        adapt_mu: float = ADAPT_MU,
        adapt_clear_gain: bool = ADAPT_CLEAR,
        adopt: bool = typer.Option(False, "--adopt", help="Save the SASRec this home serves "
                                   "(global, or personalised) as its next version, unless "
                                   "its validation is below the global or the local-only "
                                   "model's (then the current version stays)."),
        timeout_s: float = typer.Option(3600.0, "--timeout"),
        root_cert: Path = typer.Option(None, "--root-cert", help="PEM: the CA to trust for "
                                       "the coordinator (default: the system's CAs)."),
        insecure: bool = typer.Option(False, "--insecure", help="Plaintext gRPC (trusted "
                                                                "networks, tests only)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Take part in a run with this home's own events; report global vs local-only."""
        from shopsense.federated import homes
        from shopsense.federated.personalise import AdaptPlan
        from shopsense.federated.tls import client_trust
        from shopsense.federated.transport import Link

        cfg = settings(ctx)
        if events is not None and not events.exists():
            fail(f"--events {events} does not exist")
        try:
            link = Link(*client_trust(root_cert, insecure))
            plan = homes.JoinPlan(model, local_epochs, dim, dp_epsilon, rounds_hint, share,
                                  batch_size=batch_size or homes.JoinPlan.batch_size,
                                  title_init=title_init,
                                  sparse_items=sparse_items, title_term=title_term,
                                  adapt=AdaptPlan(adapt_epochs, own_round=own_round,
                                                  mu=adapt_mu, clear_gain=adapt_clear_gain))
            evs, ids = homes.file_events(events, catalog) if events is not None else \
                homes.home_events(cfg)
            products = homes.catalogue_products(cfg, events, catalog) if model == "sasrec" and \
                title_init is not False else []
            report = homes.run_join(coordinator, evs, ids, plan, timeout_s=timeout_s,
                                    link=link, products=products)
        except (ValueError, TimeoutError) as exc:
            fail(str(exc))
        trained, weights = report.pop("_model", None), report.pop("_weights", None)
        if adopt:
            try:
                report["adopted"] = _adopt(cfg.home, report, trained, weights, ids,
                                           coordinator)
            except (ValueError, FileNotFoundError) as exc:
                fail(f"the federated model was not adopted: {exc}")
        emit(report, as_json)

    @fed.command("simulate")
    def simulate_cmd(
        events: Path = typer.Option(..., "--events", help="Events or sequence file."),
        clients: int = typer.Option(3, "--clients"),
        split: str = typer.Option("platform", "--split", help="platform | shop | "
                                                              "dirichlet:ALPHA"),
        rounds: int = typer.Option(10, "--rounds"),
        local_epochs: int = typer.Option(1, "--local-epochs"),
        mu: float = typer.Option(0.0, "--fedprox-mu"),
        dim: int = typer.Option(64, "--dim"),
        dp_epsilon: float = typer.Option(0.0, "--dp-epsilon"),
        max_users: int = typer.Option(3000, "--max-users", help="Subsample shoppers (0: all)."),
        batch_size: int | None = BATCH_SIZE,
        server: str = typer.Option("auto", "--server", help="avg (FedAvg) | avgm (server "
                                   "momentum) | adam (FedAdam) | auto (avg over title-seeded "
                                   "item tables, else avgm): SASRec's coordinator step."),
        server_lr: float = typer.Option(1.0, "--server-lr"),
        server_momentum: float = typer.Option(0.9, "--server-momentum"),
        patience: int = typer.Option(0, "--patience", help="> 0: stop every variant once "
                                     "its validation curve flattens (rounds = the cap)."),
        seed: int = typer.Option(0, "--seed"),
        row_weighted: bool = typer.Option(False, "--row-weighted/--no-row-weighted",
                                          help="Average item-table rows over the clients "
                                               "that used them."),
        title_init: bool | None = typer.Option(None, "--title-init/--no-title-init",
                                               help="Seed item tables from catalogue titles "
                                               "(--catalog, or one beside --events); default: "
                                               "where such a catalogue is found."),
        freeze_items: bool = typer.Option(False, "--freeze-items", help="With --title-init: "
                                          "keep the title vectors fixed (DP-SGD noises the "
                                          "body only)."),
        catalog: Path | None = typer.Option(None, "--catalog"),
        sparse_items: bool = SPARSE_ITEMS,
        title_term: bool = TITLE_TERM,
        dp_batch_size: int = typer.Option(64, "--dp-batch-size"),
        adapt_epochs: int = typer.Option(ADAPT.epochs, "--adapt-epochs",
                                         help="Personalised variant: up to N local epochs "
                                         "per client after the rounds, kept by its own "
                                         "validation (0: none)."),
        adapt_lr_scale: float = typer.Option(ADAPT.lr_scale, "--adapt-lr-scale"),
        own_round: bool = typer.Option(ADAPT.own_round, "--own-round/--pooled-round",
                                       help="Personalised variant: each client's own best "
                                       "global round, or the pooled validation's."),
        adapt_mu: float = ADAPT_MU,
        adapt_clear_gain: bool = ADAPT_CLEAR,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Clients on this machine: centralised / federated / personalised / local-only,
        with intervals."""
        from shopsense.federated.experiment import RecsPlan
        from shopsense.federated.report import recs_table
        from shopsense.federated.simulate import simulate

        if not events.exists():
            fail(f"--events {events} does not exist")
        try:
            plan = RecsPlan(rounds, local_epochs, mu, dim, dp_epsilon, seed,
                            batch_size or RecsPlan.batch_size,
                            server, server_lr, server_momentum, patience,
                            row_weighted=row_weighted,
                            title_init=True if freeze_items else title_init,
                            freeze_items=freeze_items, dp_batch_size=dp_batch_size,
                            sparse_items=sparse_items, title_term=title_term,
                            adapt_epochs=adapt_epochs, adapt_lr_scale=adapt_lr_scale,
                            own_round=own_round, adapt_mu=adapt_mu,
                            adapt_clear_gain=adapt_clear_gain)
            plan.server_opt()  # refuses an unknown optimiser before any training
            report = simulate(events, n_clients=clients, split=split, plan=plan,
                              max_users=max_users, catalog=catalog)
        except ValueError as exc:
            fail(str(exc))
        emit(report, as_json, recs_table(report))

    @fed.command("train-private")
    def train_private(
        ctx: typer.Context,
        epsilon: float = typer.Option(8.0, "--epsilon", help="DP-SGD budget (user-level)."),
        epochs: int = typer.Option(10, "--epochs"),
        title_init: bool = typer.Option(False, "--title-init", help="Seed the item table "
                                        "from the catalogue's title vectors."),
        freeze_titles: bool = typer.Option(False, "--freeze-titles", help="Item table = the "
                                           "catalogue's title vectors, fixed; DP-SGD trains "
                                           "the body only."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Central DP-SGD SASRec on the home's events, adopted as its next version."""
        from shopsense.federated.central import train_private_sasrec

        try:
            report = train_private_sasrec(settings(ctx), epsilon=epsilon, epochs=epochs,
                                             title_init=title_init,
                                             freeze_titles=freeze_titles)
        except (ValueError, FileNotFoundError) as exc:
            fail(str(exc))
        emit(report, as_json, json.dumps(report, indent=2, default=str))


PERSONAL_KEYS = ("own_best_round", "valid_global", "valid_served", "epoch_kept", "epochs_run")


def _adopt(home: Path, report: dict, trained: object, weights: object, ids: list[str],
           coordinator: str) -> dict:
    """The run's global model becomes the home's next version, with its model card."""
    from shopsense.federated.adopt import adopt_propensity, adopt_sasrec, model_card

    facts = {"coordinator": coordinator, "rounds": len(report["rounds"]),
             "transport": "grpc+tls" if report.get("tls") else "grpc (insecure)"}
    if report["model"] == "propensity":
        card = model_card("federated (flwr, SecAgg+)", privacy=report["privacy"], **facts,
                          test_auc=report["federated"].get("auc"))
        return adopt_propensity(home, weights, card)  # type: ignore[arg-type]
    if not report["adoption"]["adopt"]:  # homes.adoption_check: the current version stays
        return {"adopted": False, "why": report["adoption"]["why"],
                "valid_ndcg@10": report["adoption"]["valid_ndcg@10"]}
    served = report.get("personalised")
    card = model_card("federated (flwr, SecAgg+)", privacy=report["privacy"], **facts,
                      test_ndcg_at_10=(served or report["federated"])["ndcg@10"],
                      item_table=report.get("item_table"),
                      personalised={k: v for k, v in served.items() if k in PERSONAL_KEYS}
                      if served else "no: the global weights of the last round")
    return adopt_sasrec(home, trained.estimator(), ids, card)  # type: ignore[attr-defined]

