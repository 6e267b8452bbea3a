"""A small Python client mirroring the HTTP API (docs/API.md).

    from shopsense.client import ShopsenseClient
    shop = ShopsenseClient("http://127.0.0.1:8000", api_key="ssk_...")
    shop.search("waterproof boots under $80", user="u42")["results"]
    shop.events([{"user_id": "u42", "item_id": "P00001", "event_type": "view"}])

Personalised answers (and personal reads) for a shopper need the admin key or that shopper's
token: `ShopsenseClient(url, public_key, shopper_token=token)`, the token issued by the shop's
backend with `ShopsenseClient(url, admin_key).shopper_token(user="u42")["token"]`
(docs/PRIVACY.md). Without it, a list named for a shopper is a visitor's.

Errors raise `ShopsenseError` with the status code and the field the server named.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import httpx


class ShopsenseError(RuntimeError):
    def __init__(self, status: int, code: str, message: str, field: str | None) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (field {field})" if field else ""))
        self.status, self.code, self.field = status, code, field


class ShopsenseClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None, *,
                 timeout: float = 10.0, http: httpx.Client | None = None,
                 shopper_token: str | None = None) -> None:
        headers = {"X-API-Key": api_key} if api_key else {}
        if shopper_token:
            headers["X-Shopper-Token"] = shopper_token
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._http.headers.update(headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ShopsenseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if "params" in kwargs:
            kwargs["params"] = {k: v for k, v in kwargs["params"].items() if v is not None}
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {}
            raise ShopsenseError(response.status_code, error.get("code", "error"),
                                 error.get("message", response.text[:200]), error.get("field"))
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    # -- search ------------------------------------------------------------------------------
    def search(self, q: str, *, user: str | None = None, session: str | None = None,
               k: int = 10, page: int = 1, sort: str = "relevance", category: str | None = None,
               brands: Sequence[str] = (), price_min: float | None = None,
               price_max: float | None = None, attributes: dict[str, str] | None = None,
               drop: Sequence[str] = ()) -> dict[str, Any]:
        params: dict[str, Any] = {"q": q, "user": user, "session": session, "k": k,
                                  "page": page, "sort": sort, "category": category,
                                  "price_min": price_min, "price_max": price_max,
                                  "brand": list(brands) or None, "drop": list(drop) or None}
        params.update({f"attr.{key}": v for key, v in (attributes or {}).items()})
        return self._call("GET", "/v1/search", params=params)

    def suggest(self, q: str, k: int = 8) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/suggest", params={"q": q, "k": k})["suggestions"]

    # -- recommendations ----------------------------------------------------------------------
    def recommend(self, *, user: str | None = None, session: str | None = None, k: int = 10,
                  category: str | None = None) -> dict[str, Any]:
        return self._call("GET", "/v1/recommend", params={"user": user, "session": session,
                                                          "k": k, "category": category})

    def item(self, item_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/items/{item_id}")

    def similar(self, item_id: str, k: int = 10) -> list[dict[str, Any]]:
        return self._call("GET", f"/v1/items/{item_id}/similar", params={"k": k})["results"]

    def bought_together(self, item_id: str, k: int = 10) -> list[dict[str, Any]]:
        return self._call("GET", f"/v1/items/{item_id}/bought-together",
                          params={"k": k})["results"]

    def trending(self, category: str | None = None, k: int = 10) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/trending", params={"category": category, "k": k})["results"]

    def next(self, items: Sequence[str], *, session: str | None = None, user: str | None = None,
             k: int = 10) -> list[dict[str, Any]]:
        body = {"items": list(items), "session": session, "user": user, "k": k}
        return self._call("POST", "/v1/next", json=body)["results"]

    # -- behaviour ----------------------------------------------------------------------------
    def events(self, events: Iterable[dict[str, Any]]) -> dict[str, int]:
        return self._call("POST", "/v1/events", json=list(events))

    def impressions(self, answer: dict[str, Any], *, surface: str, user: str | None = None,
                    session: str | None = None, shown: int | None = None,
                    arm: str | None = None) -> dict[str, int]:
        """Report that the first `shown` results of an answer (all when None) were displayed:
        positions, each result's propensity and the answer's `request_id` are sent along, and
        (`arm`, by default) the answer's experiment tag when it came from an experiment."""
        results = answer["results"][:shown]
        if not results:
            return {"accepted": 0, "duplicates": 0}
        body = {"request_id": answer["request_id"], "surface": surface, "user_id": user,
                "session_id": session, "items": [r["item_id"] for r in results],
                "propensities": [float(r.get("propensity", 1.0)) for r in results],
                "policy": answer.get("policy"),
                "arm": arm or (answer.get("experiment") or {}).get("tag")}
        return self._call("POST", "/v1/impressions", json=body)

    def click(self, answer: dict[str, Any], item_id: str, *, user: str | None = None,
              session: str | None = None, event_type: str = "click") -> dict[str, int]:
        """A click (or view / cart / purchase) on an item of an answer, tied to its request."""
        return self.events([{"event_type": event_type, "item_id": item_id, "user_id": user,
                             "session_id": session, "request_id": answer["request_id"]}])

    def feedback(self, item_id: str, *, user: str | None = None, session: str | None = None,
                 action: str = "dismiss") -> dict[str, Any]:
        return self._call("POST", "/v1/feedback", json={"user_id": user, "session_id": session,
                                                        "item_id": item_id, "action": action})

    # -- trust --------------------------------------------------------------------------------
    def explain(self, item_id: str, *, context: str = "recommend", user: str | None = None,
                session: str | None = None) -> dict[str, Any]:
        return self._call("GET", "/v1/explain", params={"item": item_id, "context": context,
                                                        "user": user, "session": session})

    def propensity(self, user: str, category: str | None = None) -> dict[str, Any]:
        return self._call("GET", "/v1/propensity", params={"user": user, "category": category})

    def audience(self, *, category: str | None = None, item: str | None = None,
                 n: int = 100) -> dict[str, Any]:
        return self._call("GET", "/v1/audience", params={"category": category, "item": item,
                                                         "n": n})

    # -- catalogue and shoppers (admin) --------------------------------------------------------
    def upsert_items(self, products: Iterable[dict[str, Any]]) -> dict[str, int]:
        return self._call("PUT", "/v1/items", json=list(products))

    def delete_items(self, item_ids: Iterable[str]) -> dict[str, int]:
        return self._call("DELETE", "/v1/items", json={"item_ids": list(item_ids)})

    def forget_user(self, user: str) -> dict[str, Any]:
        return self._call("DELETE", f"/v1/users/{user}")

    def shopper_token(self, *, user: str | None = None, session: str | None = None,
                      ttl_s: float | None = None) -> dict[str, Any]:
        """A token for one shopper's personal answers (admin key: the shop's backend)."""
        body = {"user_id": user, "session_id": session, "ttl_s": ttl_s}
        return self._call("POST", "/v1/shopper-tokens",
                          json={k: v for k, v in body.items() if v is not None})

    def profile(self, user: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/users/{user}/profile")

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/healthz")
