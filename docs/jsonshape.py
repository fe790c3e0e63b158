#!/usr/bin/env python3
"""Prints the shape of a JSON document read from stdin: one `path: type` line per key, lists shown by
their first element as `path[]`. Used by docs/json.md (generated blocks) so the documented keys follow
the code. Stdlib only."""

import json
import sys


def kind(v) -> str:
    if v is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}[type(v)]


def walk(v, path: str, seen: dict) -> None:
    k = kind(v)
    if path:
        seen.setdefault(path, [])
        if k not in seen[path]:
            seen[path].append(k)
    if isinstance(v, dict):
        for key, x in v.items():
            walk(x, f"{path}.{key}" if path else key, seen)
    elif isinstance(v, list):
        for x in v:
            walk(x, f"{path}[]", seen)


def main() -> None:
    doc = json.load(sys.stdin)
    seen: dict[str, list[str]] = {}
    walk(doc, "", seen)
    if isinstance(doc, list):
        print("(a list)")
    for path, kinds in seen.items():
        print(f"{path}: {' | '.join(kinds)}")


if __name__ == "__main__":
    main()
