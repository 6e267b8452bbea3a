"""Federated training of shopsense's own models (Flower, SecAgg+) and DP-SGD (Opacus).

splits: who holds which events (platforms of one shop, several shops, Dirichlet shops).
recs / propensity: local training of SASRec and the propensity scorer from given weights.
dp: DP-SGD steps (per-sample clipping + noise from Opacus, its accountant's (epsilon, delta)).
rounds: FedAvg / FedProx rounds in one process (simulation); transport: the same over Flower.
experiment: centralised / federated / local-only variants with intervals (simulate, benchmark).
adopt: a federated model saved into a home as a new trained version with its model card.
"""
