"""The kubelocal demo (for now: the config checker).

Runs `kubelocal config check` through the real command line on the sample configs and prints what
it says: the valid example passes, the file with every kind of problem shows each one at its place,
and the files whose problem stops the whole check show theirs. Exits 0 when every check ran and
exited as expected (0 for the valid file, 1 for the others), 1 otherwise.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

SAMPLES = pathlib.Path(__file__).resolve().parent / "configs"
CONFIG_NAME = "KubernetesLocalProcessConfig.yaml"


def run_check(path: pathlib.Path) -> int:
    relative = path.relative_to(SAMPLES.parent.parent)
    print(f"$ kubelocal config check {relative}")
    result = subprocess.run(
        [sys.executable, "-m", "kubelocal", "config", "check", str(relative)],
        cwd=SAMPLES.parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).rstrip()
    print(output if output else "(no problems)")
    print(f"exit status {result.returncode}\n")
    return result.returncode


def main() -> int:
    expectations = [(SAMPLES / "valid" / CONFIG_NAME, 0), (SAMPLES / "every-problem" / CONFIG_NAME, 1)]
    expectations += [(path, 1) for path in sorted((SAMPLES / "file-problems").iterdir())]
    unexpected = []
    for path, expected in expectations:
        if run_check(path) != expected:
            unexpected.append(path.name)
    if unexpected:
        print(f"demo: unexpected exit status for {', '.join(unexpected)}", file=sys.stderr)
        return 1
    print("demo: every sample was checked as expected.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
