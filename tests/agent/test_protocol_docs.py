"""docs/protocol.md against the code, so the written contract cannot drift from the constants.

Aspects: the frame table lists every frame type with its number; the error table lists every
error code with its number; the target kinds and request methods the agent serves are all
documented; every MIN_VERSION_<FEATURE> constant has its supports_<feature>() function.
"""

from __future__ import annotations

import re
from pathlib import Path

from kubelocal_agent.protocol import errors, frames, targets, versions

DOC = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()


def test_every_frame_type_is_documented_with_its_number():
    documented = dict(
        (name, int(number)) for number, name in re.findall(r"^\| (\d+) \| ([A-Z_]+) \|", DOC, re.M)
    )
    assert {t.name: t.value for t in frames.FrameType}.items() <= documented.items()


def test_every_error_code_is_documented_with_its_number():
    documented = dict(
        (name, int(number)) for number, name in re.findall(r"^\| (\d+) \| ([A-Z_]+) \|", DOC, re.M)
    )
    assert {c.name: c.value for c in errors.ErrorCode}.items() <= documented.items()


def test_target_kinds_and_methods_are_documented():
    for kind in (targets.INBOUND, targets.CONNECT, targets.VOLUME):
        assert f"| `{kind}` |" in DOC
    for method in ("env", "status"):
        assert f"| `{method}` |" in DOC


def test_every_minimum_version_has_its_supports_function():
    features = [
        name.removeprefix("MIN_VERSION_").lower() for name in dir(versions) if name.startswith("MIN_VERSION_")
    ]
    assert features
    for feature in features:
        check = getattr(versions, f"supports_{feature}")
        assert check(getattr(versions, f"MIN_VERSION_{feature.upper()}"))
