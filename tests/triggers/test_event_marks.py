"""Where the snapshot event trigger keeps its mark: the asset's state store, else a Variable, else memory."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_provider_atlas_restore.triggers import event_marks
from airflow_provider_atlas_restore.triggers.event_marks import (
    AssetStateMarks,
    MemoryMarks,
    VariableMarks,
    choose_mark_store,
    mark_key,
)
from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS


class SyncOnlyStateStore:
    """The accessor of Airflow 3.3.0 and 3.3.1: blocking get/set only."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


class FakeVariable:
    """airflow.sdk.Variable as the triggerer serves it: JSON values by key."""

    values: dict[str, str] = {}

    @classmethod
    def get(cls, key: str, default: Any = None, deserialize_json: bool = False) -> Any:
        return json.loads(cls.values[key]) if key in cls.values else default

    @classmethod
    def set(cls, key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        cls.values[key] = json.dumps(value)


def test_mark_key_names_no_id_and_differs_per_cluster():
    one, other = mark_key("p", "a" * 24, "Cluster0"), mark_key("p", "a" * 24, "Cluster1")

    assert one != other
    assert "Cluster0" not in one
    assert "a" * 24 not in one


def test_a_blocking_state_store_is_used_through_a_thread():
    accessor = SyncOnlyStateStore()
    accessor.values["k"] = {"version": 1}

    store, value = asyncio.run(choose_mark_store(accessor, "k"))

    assert isinstance(store, AssetStateMarks)
    assert value == {"version": 1}
    asyncio.run(store.save("k", {"version": 2}))
    assert accessor.values["k"] == {"version": 2}


@pytest.mark.skipif(
    not AIRFLOW_V_3_0_PLUS, reason="event triggers and airflow.sdk.Variable exist from Airflow 3"
)
def test_without_a_state_store_the_mark_goes_into_a_variable(monkeypatch):
    monkeypatch.setattr("airflow.sdk.Variable", FakeVariable)
    FakeVariable.values = {}

    store, value = asyncio.run(choose_mark_store(None, "k"))
    asyncio.run(store.save("k", {"version": 1}))

    assert isinstance(store, VariableMarks)
    assert value is None
    assert json.loads(FakeVariable.values["k"]) == {"version": 1}


@pytest.mark.skipif(
    not AIRFLOW_V_3_0_PLUS, reason="event triggers and airflow.sdk.Variable exist from Airflow 3"
)
def test_when_no_durable_store_answers_the_mark_stays_in_memory_with_a_warning(monkeypatch, caplog):
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no supervisor to ask")

    monkeypatch.setattr("airflow.sdk.Variable.get", refuse)
    monkeypatch.setattr(event_marks, "_MEMORY", {})

    class BrokenStateStore:
        async def aget(self, key: str, default: Any = None) -> Any:
            raise ValueError("several assets watched")

    with caplog.at_level("WARNING"):
        store, value = asyncio.run(choose_mark_store(BrokenStateStore(), "k"))

    assert isinstance(store, MemoryMarks)
    assert value is None
    assert "may be announced again" in caplog.text


@pytest.mark.parametrize("value", [None, "garbage", {"version": 1, "seen": [], "floor": None}])
def test_memory_marks_keep_what_they_are_given(monkeypatch, value):
    monkeypatch.setattr(event_marks, "_MEMORY", {})
    store = MemoryMarks()

    asyncio.run(store.save("k", value))

    assert asyncio.run(store.load("k")) == value
