"""`kubelocal config check [FILE]` and `kubelocal config init [FILE]`.

`check` prints `FILE:LINE:COL: severity: message [code]` (1-based) per problem, or a JSON list with
`--json`; exit status 1 when there is an error, 0 otherwise (warnings alone pass), 2 when the file
cannot be read. `init` writes the commented starter file and refuses to overwrite without --force.
"""

from __future__ import annotations

import argparse
import io
import json
import pathlib
import sys
from typing import Any

from kubelocal.config import checking, problems, template

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    config_parser = subparsers.add_parser(
        "config",
        help="check or create KubernetesLocalProcessConfig.yaml",
        description=__doc__.splitlines()[0],
    )
    config_subparsers = config_parser.add_subparsers(dest="config_command", metavar="COMMAND", required=True)

    check_parser = config_subparsers.add_parser(
        "check", help="report the problems of a KubernetesLocalProcessConfig.yaml"
    )
    check_parser.add_argument(
        "file",
        nargs="?",
        default=template.FILENAME,
        type=pathlib.Path,
        help=f"default: ./{template.FILENAME}",
    )
    check_parser.add_argument("--json", action="store_true", help="print the problems as a JSON list")
    check_parser.set_defaults(handler=run_check)

    init_parser = config_subparsers.add_parser("init", help="write a commented starter file")
    init_parser.add_argument(
        "file",
        nargs="?",
        default=template.FILENAME,
        type=pathlib.Path,
        help=f"default: ./{template.FILENAME}",
    )
    init_parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    init_parser.set_defaults(handler=run_init)


def run_check(args: argparse.Namespace) -> int:
    path: pathlib.Path = args.file
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        print(
            f"kubelocal: {path} does not exist. Pass the path of your KubernetesLocalProcessConfig.yaml, "
            f"or create one with 'kubelocal config init {path}'.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except OSError as error:
        print(
            f"kubelocal: cannot read {path}: {error.strerror}. Check the path and its permissions.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    result = checking.check_bytes(data)
    # Messages quote the file's own text; a terminal that cannot show a character gets an escape.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.json:
        print(
            json.dumps(
                [problem_as_json(problem) for problem in result.problems], indent=2, ensure_ascii=False
            )
        )
    else:
        for problem in result.problems:
            print(format_problem(str(path), problem))
    has_error = any(problem.severity is problems.Severity.ERROR for problem in result.problems)
    return EXIT_PROBLEMS if has_error else EXIT_OK


def run_init(args: argparse.Namespace) -> int:
    path: pathlib.Path = args.file
    if path.exists() and not args.force:
        print(f"kubelocal: {path} already exists. Edit it, or pass --force to overwrite it.", file=sys.stderr)
        return EXIT_USAGE
    try:
        path.write_text(template.STARTER_CONFIG, encoding="utf-8")
    except OSError as error:
        print(
            f"kubelocal: cannot write {path}: {error.strerror}. Check the folder exists and is writable.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    print(f"Wrote {path}. Check it with 'kubelocal config check {path}'.")
    return EXIT_OK


def format_problem(filename: str, problem: problems.Problem) -> str:
    start = problem.span.start
    where = f"{filename}:{start.line + 1}:{start.column + 1}"
    return f"{where}: {problem.severity.value}: {problem.message} [{problem.code}]"


def problem_as_json(problem: problems.Problem) -> dict[str, Any]:
    """A problem with 1-based lines and columns (as printed), its fixes' edits 1-based too."""
    return {
        "code": problem.code,
        "severity": problem.severity.value,
        "message": problem.message,
        "start": _position_as_json(problem.span.start),
        "end": _position_as_json(problem.span.end),
        "fixes": [
            {
                "title": fix.title,
                "edits": [
                    {
                        "start": _position_as_json(edit.span.start),
                        "end": _position_as_json(edit.span.end),
                        "newText": edit.new_text,
                    }
                    for edit in fix.edits
                ],
            }
            for fix in problem.fixes
        ],
        "data": problem.data,
    }


def _position_as_json(position: problems.Position) -> dict[str, int]:
    return {"line": position.line + 1, "column": position.column + 1}
