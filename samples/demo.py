"""The kubelocal demo (for now: the config checker).

Runs `kubelocal config check --json` through the real command line on the sample configs and
shows each problem as the CLI prints it, under it the line of the file with the problem's range
marked. The valid example passes; the file with every kind of problem shows each one at its
place; each file in file-problems/ shows the problem that stops a whole file. Exits 0 when every
check exited as expected (0 for the valid file, 1 for the others), 1 otherwise.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
SAMPLES = REPOSITORY / "samples" / "configs"
CONFIG_NAME = "KubernetesLocalProcessConfig.yaml"


def show(relative: pathlib.Path, found: list[dict]) -> None:
    """Print each problem like the CLI does, with its line and a marker under its range."""
    lines = (REPOSITORY / relative).read_bytes().decode("utf-8", errors="replace").splitlines()
    for problem in found:
        start, end = problem["start"], problem["end"]
        where = f"{relative}:{start['line']}:{start['column']}"
        print(f"{where}: {problem['severity']}: {problem['message']} [{problem['code']}]")
        if not 1 <= start["line"] <= len(lines):
            continue
        # A control character (the invalid-character sample has a BEL) is shown, not sent to the terminal.
        line = "".join(c if c.isprintable() else "\ufffd" for c in lines[start["line"] - 1])
        # Columns count characters; a line too long or with tabs is shown as far as it is useful.
        if len(line) > 160 or "\t" in line:
            continue
        last = end["column"] if end["line"] == start["line"] else len(line) + 1
        width = max(1, last - start["column"])
        print(f"    {line}")
        print(f"    {' ' * (start['column'] - 1)}{'^' * width}")


def run_check(path: pathlib.Path, *, expected: int) -> bool:
    relative = path.relative_to(REPOSITORY)
    print(f"$ kubelocal config check {relative}")
    result = subprocess.run(
        [sys.executable, "-m", "kubelocal", "config", "check", "--json", str(relative)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.stderr:
        print(result.stderr.rstrip())
    found = json.loads(result.stdout) if result.stdout.strip() else []
    show(relative, found)
    if not found:
        print("(no problems)")
    print(f"exit status {result.returncode}\n")
    return result.returncode == expected


def main() -> int:
    expectations = [(SAMPLES / "valid" / CONFIG_NAME, 0), (SAMPLES / "every-problem" / CONFIG_NAME, 1)]
    expectations += [(path, 1) for path in sorted((SAMPLES / "file-problems").iterdir())]
    unexpected = [path.name for path, expected in expectations if not run_check(path, expected=expected)]
    if unexpected:
        print(f"demo: unexpected exit status for {', '.join(unexpected)}", file=sys.stderr)
        return 1
    print("demo: every sample was checked as expected.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
