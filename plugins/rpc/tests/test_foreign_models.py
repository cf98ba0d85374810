"""msgspec structs and pydantic models as param / result types (optional extras)."""

from __future__ import annotations

import sys
from asyncio import run
from pathlib import Path
from typing import Any

import pytest
from kaiju_plugins.rpc import PermissionKeys, PublicInterface
from kaiju_tools import SERVICE_CLASS_REGISTRY, Service

sys.path.insert(0, str(Path(__file__).parent))  # openrpc_meta.py (pytest imports tests with importlib)
from openrpc_meta import validate

msgspec = pytest.importorskip("msgspec", reason="msgspec is an optional extra (kaiju-plugin-rpc[msgspec])")
pydantic = pytest.importorskip("pydantic",
                               reason="pydantic is an optional extra (kaiju-plugin-rpc[pydantic])")


class Item(msgspec.Struct):
    """An item (a msgspec struct)."""

    name: str
    qty: int = 1


class Order(pydantic.BaseModel):
    """An order (a pydantic model)."""

    id: int
    items: list[str] = pydantic.Field(default_factory=list)


class Models(Service, PublicInterface):
    @property
    def routes(self) -> dict[str, Any]:
        return {"item": self.item, "order": self.order}

    @property
    def permissions(self) -> dict[str, int]:
        return {"*": PermissionKeys.GUEST}

    def item(self, items: list[Item]) -> Item:
        """Sum the quantities of items (msgspec)."""
        assert all(isinstance(i, Item) for i in items)
        return Item(name="+".join(i.name for i in items), qty=sum(i.qty for i in items))

    async def order(self, order: Order) -> Order:
        """Echo an order with one more item (pydantic)."""
        assert isinstance(order, Order)
        return Order(id=order.id, items=[*order.items, "extra"])


SERVICE_CLASS_REGISTRY.register(Models)
SERVICES = [{"cls": "Models", "name": "models"}]


def _calls(serve_app: Any, *calls: tuple[str, Any]) -> list[Any]:
    async def go() -> list[Any]:
        async with serve_app(services=SERVICES) as served:
            return [await served.call(method, params) for method, params in calls]

    return run(go())


def test_msgspec_structs_are_decoded_and_encoded(serve_app: Any) -> None:
    ok, bad = _calls(serve_app, ("models.item", [[{"name": "a"}, {"name": "b", "qty": 3}]]),
                     ("models.item", [[{"name": "a"}, {"name": "b", "qty": "x"}]]))
    assert ok["result"] == {"name": "a+b", "qty": 4}
    assert bad["error"]["code"] == -32602
    assert bad["error"]["data"]["path"] == "params.items[1].qty"
    assert "Item" in bad["error"]["data"]["expected"] and "int" in bad["error"]["data"]["expected"]


def test_pydantic_models_are_decoded_and_encoded(serve_app: Any) -> None:
    ok, bad = _calls(serve_app, ("models.order", {"order": {"id": 7, "items": ["a"]}}),
                     ("models.order", {"order": {"id": 7, "items": ["a", 5]}}))
    assert ok["result"] == {"id": 7, "items": ["a", "extra"]}
    assert bad["error"]["code"] == -32602
    assert bad["error"]["data"]["path"] == "params.order.items[1]"


def test_their_schemas_are_in_the_document_and_it_validates(serve_app: Any) -> None:
    (out,) = _calls(serve_app, ("rpc.discover", None))
    doc = out["result"]
    validate(doc)
    schemas = doc["components"]["schemas"]
    assert schemas["Item"]["properties"]["qty"]["type"] == "integer"
    assert schemas["Order"]["properties"]["id"]["type"] == "integer"
    methods = {m["name"]: m for m in doc["methods"]}
    assert methods["models.order"]["result"]["schema"] == {"$ref": "#/components/schemas/Order"}
