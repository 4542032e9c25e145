"""Replay the shared vectors against the Python implementation, and keep them fresh."""

import importlib.util
import json
from pathlib import Path

import pytest

from sync import HLC, Change, Conflict, RecordState, correct, json_equal, merge

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _load(name):
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


HLC_VECTORS = _load("hlc.json")
MERGE_VECTORS = _load("merge.json")


def _raises(name, call):
    with pytest.raises(Exception) as info:
        call()
    assert type(info.value).__name__ == name


def test_vector_files_match_the_generator():
    spec = importlib.util.spec_from_file_location("vectors_generate", VECTORS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path, text in module.outputs().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run generate.py"


def test_format_version():
    assert HLC_VECTORS["format_version"] == MERGE_VECTORS["format_version"] == 1


@pytest.mark.parametrize("case", HLC_VECTORS["format"])
def test_hlc_format(case):
    stamp = HLC(case["millis"], case["counter"], case["node"])
    assert str(stamp) == case["string"] and HLC.parse(case["string"]) == stamp


@pytest.mark.parametrize("case", HLC_VECTORS["invalid_strings"], ids=lambda c: c["reason"])
def test_hlc_invalid_strings(case):
    _raises("HLCFormatError", lambda: HLC.parse(case["string"]))


@pytest.mark.parametrize("case", HLC_VECTORS["invalid_values"], ids=lambda c: c["reason"])
def test_hlc_invalid_values(case):
    _raises("HLCFormatError", lambda: HLC(case["millis"], case["counter"], case["node"]))


@pytest.mark.parametrize("case", HLC_VECTORS["send"], ids=lambda c: c["name"])
def test_hlc_send(case):
    clock = HLC.parse(case["start"])
    for step in case["steps"]:
        if "error" in step:
            _raises(step["error"], lambda: clock.send(step["now"]))
        else:
            clock = clock.send(step["now"])
            assert str(clock) == step["expect"]


@pytest.mark.parametrize("case", HLC_VECTORS["receive"], ids=lambda c: c["name"])
def test_hlc_receive(case):
    local, remote = HLC.parse(case["local"]), HLC.parse(case["remote"])
    call = lambda: local.receive(remote, case["now"], case["max_drift"])  # noqa: E731
    if "error" in case:
        _raises(case["error"], call)
    else:
        assert str(call()) == case["expect"]


@pytest.mark.parametrize("case", HLC_VECTORS["correct"], ids=lambda c: c["name"])
def test_hlc_correct(case):
    assert str(correct(HLC.parse(case["stamp"]), case["skew"], case["now"])) == case["expect"]


@pytest.mark.parametrize("case", HLC_VECTORS["order"])
def test_hlc_order(case):
    a, b = case["a"], case["b"]
    assert (a > b) - (a < b) == case["cmp"]
    pa, pb = HLC.parse(a), HLC.parse(b)
    assert (pa > pb) - (pa < pb) == case["cmp"]


@pytest.mark.parametrize("case", MERGE_VECTORS["cases"], ids=lambda c: c["name"])
def test_merge_case(case):
    state = RecordState.from_dict(case["state"]) if case["state"] else None
    out = merge(state, Change.from_dict(case["change"]), case["effective_hlc"], case["new_rev"])
    expect = case["expect"]
    assert json_equal(out.state.to_dict(), expect["state"])
    assert out.status == expect["status"]
    assert out.conflicts == [Conflict.from_dict(c) for c in expect["conflicts"]]
    assert out.changed_fields == expect["changed_fields"]


def test_merge_vectors_cover_every_status_and_op():
    cases = MERGE_VECTORS["cases"]
    assert {c["expect"]["status"] for c in cases} == {"applied", "merged", "conflict"}
    assert {c["change"]["op"] for c in cases} == {"upsert", "delete"}
    assert any(c["expect"]["state"]["deleted"] for c in cases)


@pytest.mark.parametrize("case", MERGE_VECTORS["json_equal"])
def test_json_equal_case(case):
    assert json_equal(case["a"], case["b"]) is case["equal"]
