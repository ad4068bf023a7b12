"""The template-identity tool itself (tests/template_identity.py): it finds a changed template, a missing one,
an order-only change, and normalizes nothing but temporary directory names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import template_identity as ti


def _recording(directory: Path, templates: dict[str, dict]) -> Path:
    recorder = ti.Recorder(directory)
    recorder.test = "tests/test_x.py::test_y"
    for path, template in templates.items():
        recorder.record(path, template)
    recorder.write_index()
    return directory


TEMPLATE = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 1024, "Timeout": 3}}}}


def test_identical_recordings_compare_equal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _recording(tmp_path / "a", {"S": TEMPLATE, "T": {"Resources": {}}})
    b = _recording(tmp_path / "b", {"S": TEMPLATE, "T": {"Resources": {}}})
    assert ti.compare(a, b) == 0
    assert "2 templates compared: 2 identical, 0 different" in capsys.readouterr().out


def test_a_changed_value_is_found_and_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changed = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 512, "Timeout": 3}}}}
    a = _recording(tmp_path / "a", {"S": TEMPLATE})
    b = _recording(tmp_path / "b", {"S": changed})
    assert ti.compare(a, b) == 1
    out = capsys.readouterr().out
    assert "1 templates compared: 0 identical, 1 different" in out
    assert '-    "MemorySize": 1024,' in out and '+    "MemorySize": 512,' in out


def test_an_order_only_change_is_a_difference_and_said_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reordered = {
        "Resources": {"Fn": {"Properties": {"Timeout": 3, "MemorySize": 1024}, "Type": "AWS::Lambda::Function"}}
    }
    a = _recording(tmp_path / "a", {"S": TEMPLATE})
    b = _recording(tmp_path / "b", {"S": reordered})
    assert ti.compare(a, b) == 1
    assert "(same JSON value, different order)" in capsys.readouterr().out


def test_a_template_missing_after_is_a_difference(tmp_path: Path) -> None:
    a = _recording(tmp_path / "a", {"S": TEMPLATE, "T": {"Resources": {}}})
    b = _recording(tmp_path / "b", {"S": TEMPLATE})
    assert ti.compare(a, b) == 1


def test_keys_count_templates_per_owner_and_only_temporary_paths_are_normalized(tmp_path: Path) -> None:
    recorder = ti.Recorder(tmp_path)
    recorder.test = "t::a"
    assert recorder.key("S1") == "t::a::0::S1" and recorder.key("S1") == "t::a::1::S1"
    recorder.fixtures.append("tests/test_m.py::made")
    assert recorder.key("S2") == "tests/test_m.py::made::0::S2"
    text = ti.normalize(
        '{"file": "/tmp/pytest-of-u/pytest-7/test_x0/sizing.json", "k": "/tmp/tmpab12cd34/x", "a": "1"}'
    )
    assert text == '{"file": "<pytest-tmp>/test_x0/sizing.json", "k": "<tempfile>/x", "a": "1"}'
