"""Template identity: record every CloudFormation template the test suite synthesizes, compare two recordings.

A refactoring that must change no template (issue 16's plan/build split) is proven by recording the
suite before and after it and comparing the two recordings byte for byte::

    python -m tests.template_identity record /tmp/before          # runs pytest with recording on
    ... change the code ...
    python -m tests.template_identity record /tmp/after
    python -m tests.template_identity compare /tmp/before /tmp/after

``record`` runs the whole suite (extra arguments go to pytest, e.g. ``tests/test_function.py``) with
``LC_RECORD_TEMPLATES=<dir>``; ``tests/conftest.py`` then installs :func:`install`, which wraps
``aws_cdk.assertions.Template.from_stack``, ``Annotations.from_stack``, ``aws_cdk.App.synth`` and
``aws_cdk.Stage.synth`` and writes each template to ``<dir>/<key>.json`` plus a digest into
``<dir>/index.json``. The example app is
synthesized in-process by the suite's ``example_templates`` fixture, so it is recorded too.

Keys are stable across added tests: a template synthesized inside a fixture is keyed by the fixture
(``<module>::<fixture>[param]``), any other by the test's node id, each followed by its ordinal within
that key and the stack's path. The only normalization is of pytest's and ``tempfile``'s temporary
directory names (they differ between runs and reach templates through sizing-file paths);
hypothesis runs derandomized (no example database) so it draws the same examples each time.
Templates synthesized in subprocesses (the ``cdk synth`` CLI test, the starter's own tests) are not
recorded; the CLI test compares its templates with the in-process ones itself.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ENV = "LC_RECORD_TEMPLATES"
_TMP = [
    (re.compile(r"/tmp/pytest-of-[^/\"]+/pytest-\d+/"), "<pytest-tmp>/"),
    (re.compile(r"/tmp/tmp[a-z0-9_]{8}"), "<tempfile>"),
]
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]=]+")


def normalize(text: str) -> str:
    for pattern, placeholder in _TMP:
        text = pattern.sub(placeholder, text)
    return text


def render(template: dict[str, Any]) -> str:
    """The template as recorded: JSON in the order aws-cdk-lib wrote it (no key sorting), normalized."""
    return normalize(json.dumps(template, indent=1, ensure_ascii=False)) + "\n"


class Recorder:
    """Writes each template it is given under the current key (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.index: dict[str, str] = {}
        self.test = "<collection>"
        self.fixtures: list[str] = []
        self.counts: dict[str, int] = {}
        self.files: dict[str, str] = {}

    def key(self, stack_path: str) -> str:
        owner = self.fixtures[-1] if self.fixtures else self.test
        count = self.counts.get(owner, 0)
        self.counts[owner] = count + 1
        return f"{owner}::{count}::{stack_path}"

    def record(self, stack_path: str, template: dict[str, Any]) -> None:
        key = self.key(stack_path)
        text = render(template)
        self.index[key] = hashlib.sha256(text.encode()).hexdigest()
        name = _UNSAFE.sub("_", key)
        if len(name) > 200:  # file names stay short; the index keeps the full key
            name = name[:150] + "-" + hashlib.sha256(key.encode()).hexdigest()[:16]
        (self.directory / f"{name}.json").write_text(text)
        self.files[key] = f"{name}.json"

    def write_index(self) -> None:
        import lambda_constructs

        record = {"package": lambda_constructs.__file__, "templates": self.index, "files": self.files}
        (self.directory / "index.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def install(directory: Path) -> Recorder:
    """Wrap Template.from_stack and Stage.synth so every synthesized template is recorded."""
    import aws_cdk
    from aws_cdk.assertions import Annotations, Template

    recorder = Recorder(directory)
    original_from_stack = Template.from_stack

    def from_stack(stack: aws_cdk.Stack, *args: Any, **kwargs: Any) -> Template:
        tpl = original_from_stack(stack, *args, **kwargs)
        recorder.record(stack.node.path, tpl.to_json())
        return tpl

    def recording(original: Any) -> Any:
        def synth(self: aws_cdk.Stage, *args: Any, **kwargs: Any) -> Any:
            assembly = original(self, *args, **kwargs)
            for artifact in assembly.stacks_recursively:
                recorder.record(artifact.hierarchical_id, artifact.template)
            return assembly

        return synth

    original_annotations = Annotations.from_stack

    def annotations_from_stack(stack: aws_cdk.Stack) -> Annotations:
        # a test that reads only the annotations synthesized the stack too: record its template
        recorder.record(stack.node.path, original_from_stack(stack).to_json())
        return original_annotations(stack)

    Template.from_stack = staticmethod(from_stack)  # type: ignore[method-assign,assignment]
    Annotations.from_stack = staticmethod(annotations_from_stack)  # type: ignore[method-assign,assignment]
    for cls in (aws_cdk.Stage, aws_cdk.App):  # jsii declares synth on each class: wrap both
        cls.synth = recording(cls.__dict__["synth"])  # type: ignore[method-assign]
    return recorder


# ---------------------------------------------------------------------- the pytest side (tests/conftest.py)


def pytest_hooks(recorder: Recorder) -> object:
    """A pytest plugin object keeping the recorder's key current."""
    import pytest

    class _Plugin:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_protocol(self, item: pytest.Item, nextitem: object) -> Iterator[None]:
            recorder.test = item.nodeid
            yield
            recorder.test = "<between tests>"

        @pytest.hookimpl(hookwrapper=True)
        def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Iterator[None]:
            param = f"[{request.param_index}]" if getattr(request, "param_index", 0) else ""
            owner = request.node.nodeid if fixturedef.scope == "function" else fixturedef.baseid
            recorder.fixtures.append(f"{owner}::{fixturedef.argname}{param}")
            try:
                yield
            finally:
                recorder.fixtures.pop()

        def pytest_sessionfinish(self) -> None:
            recorder.write_index()

    return _Plugin()


# ---------------------------------------------------------------------- command line


def compare(before: Path, after: Path, *, show: int = 5) -> int:
    """0 if every template recorded in both is byte-identical; prints a summary (and diffs) either way."""
    a = json.loads((before / "index.json").read_text())
    b = json.loads((after / "index.json").read_text())
    common = sorted(set(a["templates"]) & set(b["templates"]))
    differ = [k for k in common if a["templates"][k] != b["templates"][k]]
    only_before = sorted(set(a["templates"]) - set(b["templates"]))
    only_after = sorted(set(b["templates"]) - set(a["templates"]))
    print(f"{len(common)} templates compared: {len(common) - len(differ)} identical, {len(differ)} different")
    print(f"{len(only_before)} only in {before}, {len(only_after)} only in {after}")
    # a key that moved (a test renamed or added before a fixture's first use) is matched by content
    unmatched = sorted(set(a["templates"][k] for k in only_before) - set(b["templates"].values()))
    if only_before:
        print(f"of those only in {before}: {len(only_before) - len(unmatched)} found under another key")
    for key in differ[:show]:
        old = (before / a["files"][key]).read_text().splitlines()
        new = (after / b["files"][key]).read_text().splitlines()
        semantic = json.loads("\n".join(old)) == json.loads("\n".join(new))
        print(f"--- {key}" + (" (same JSON value, different order)" if semantic else ""))
        sys.stdout.writelines(
            line + "\n" for line in list(difflib.unified_diff(old, new, "before", "after", lineterm="", n=2))[:60]
        )
    for key in only_before[:show]:
        print(f"only before: {key}")
    return 1 if differ or unmatched else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "record":
        directory = Path(argv[1]).resolve()
        if directory.exists() and any(directory.iterdir()):
            print(f"{directory} is not empty", file=sys.stderr)
            return 2
        env = {**os.environ, ENV: str(directory)}
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *argv[2:]]
        done = subprocess.run(pytest, env=env, check=False)
        index = json.loads((directory / "index.json").read_text())
        print(f"recorded {len(index['templates'])} templates of {index['package']} in {directory}")
        print(f"pytest exit status {done.returncode}")
        return done.returncode
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
