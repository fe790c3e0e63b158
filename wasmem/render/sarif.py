"""`wasmem check --format sarif`: the check reports as a SARIF 2.1.0 log, for GitHub code scanning and
other SARIF viewers. Pure data building (a dict for ``json.dumps``).

One run; ``tool.driver.rules`` has one rule per check rule that ran, ``results`` one result per failed
rule result, located on the module file as a whole (a module is binary: it has no lines, so there is
no ``region``) — except a result about places in the program's source (a leak's sites, file:line from DWARF),
located on the first of them with its line (the module and the other places are ``relatedLocations``) —
``artifacts`` lists the modules (and those source files), and a module that could not be read is a
``toolExecutionNotification`` of ``invocations[0]`` (then ``executionSuccessful`` is false).

Module paths and everything derived from a module (function names in details, error messages) are
untrusted text: URIs are percent-encoded, and messages go through ``shown`` (``wasmem.text``: one line
per name, control, format and bidi characters and lone surrogates as visible escapes).
"""

from __future__ import annotations

import hashlib
import os
from urllib.parse import quote_from_bytes

from .. import __version__
from .check import path_in, rule_value
from .common import shown

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/wasmem/wasmem"
RULES_HELP_URI = INFORMATION_URI + "/blob/main/docs/ci.md#rules"
SRCROOT = "%SRCROOT%"

# id -> (name, short description, full description, how to fix it)
RULE_INFO: dict[str, tuple[str, str, str, str]] = {
    "max-initial-pages": (
        "MaxInitialPages",
        "Memory 0 starts small enough.",
        "The first memory's declared minimum (its initial size, in 64 KiB pages) is at most the limit: "
        "every instance allocates the initial memory up front.",
        "Make the stack or the static data smaller (-Wl,-z,stack-size=BYTES), or set the initial size "
        "with -Wl,--initial-memory=BYTES. Configure with --max-initial-pages N or max-initial-pages = N "
        "in [tool.wasmem.check]."),
    "host-pages": (
        "HostPages",
        "An imported memory accepts the memory the host gives.",
        "A module that imports its memory declares a minimum number of pages; a host memory with fewer "
        "makes instantiation fail with a LinkError (V8: `memory import 0 is smaller than initial 17, got "
        "10`). Skipped when the module defines its own memory.",
        "Give the host memory at least the declared minimum (the failure's details hold the "
        "new WebAssembly.Memory(...) to pass), or relink with a smaller -Wl,--initial-memory=BYTES that "
        "still holds the stack and data. Configure with --host-pages N."),
    "host-max-pages": (
        "HostMaxPages",
        "The host memory's maximum matches the import.",
        "When an imported memory declares a maximum, V8 requires the host memory to have one that is not "
        "larger (`memory import 0 has no maximum limit`, `has a larger maximum size`); a shared memory "
        "always needs one.",
        "Pass the maximum from the failure's details (new WebAssembly.Memory({initial, maximum})). "
        "Configure with --host-max-pages M next to --host-pages N."),
    "host-shared": (
        "HostShared",
        "The host memory is shared exactly when the import is.",
        "V8 rejects a non-shared memory for a shared import and a shared one for a non-shared import "
        "(`mismatch in shared state of memory`).",
        "Pass new WebAssembly.Memory({initial, maximum, shared: true}) for a shared import (built with "
        "-Wl,--shared-memory). Configure with --host-shared next to --host-pages N."),
    "min-stack-size": (
        "MinStackSize",
        "The linear stack is big enough.",
        "The linear (shadow) stack that C, C++, Rust, Zig and Odin code keeps in linear memory is at "
        "least the limit. wasm-ld's default is 64 KiB; some toolchains use less.",
        "Link with -Wl,-z,stack-size=BYTES. Configure with --min-stack-size BYTES."),
    "max-stack-size": (
        "MaxStackSize",
        "The linear stack is not too big.",
        "The linear stack is at most the limit, so it does not take more of linear memory than planned.",
        "Link with a smaller -Wl,-z,stack-size=BYTES. Configure with --max-stack-size BYTES."),
    "require-stack-first": (
        "RequireStackFirst",
        "The stack sits below the static data.",
        "With a stack-first layout a stack overflow runs below address 0 and traps; with a data-first "
        "layout (LLD 21 and older by default) it silently overwrites static data.",
        "Link with -Wl,--stack-first (wasm-ld). Configure with --require-stack-first or "
        "require-stack-first = true."),
    "require-max-memory": (
        "RequireMaxMemory",
        "Memory 0 declares a maximum.",
        "Without a maximum the memory may grow until the host refuses (4 GiB for wasm32).",
        "Link with -Wl,--max-memory=BYTES. Configure with --require-max-memory or "
        "require-max-memory = true."),
    "max-data-size": (
        "MaxDataSize",
        "Static data is small enough.",
        "The static data (.rodata, .data, and .bss when __data_end is known) is at most the limit.",
        "Move large tables out of static data or shrink them. Configure with --max-data-size BYTES."),
    "stack-headroom": (
        "StackHeadroom",
        "Every entry point leaves enough of the stack free.",
        "For every export and the start function, the deepest static call path (frame sizes from the "
        "function prologues) leaves the given share of the linear stack unused. Recursion and dynamic "
        "frames (VLA, alloca) have no static bound and fail unless allowed.",
        "Raise -Wl,-z,stack-size=BYTES (`wasmem stack MODULE` shows the size that gives a wanted "
        "headroom) or make frames smaller; bound recursion with --recursion-depth N or accept it with "
        "--allow-unbounded. Configure with --stack-headroom PCT."),
    "leak-per-call": (
        "LeakPerCall",
        "Repeating a call does not grow the heap.",
        "The module runs with its allocator tracked and the given call is made N times: the live heap may "
        "grow by at most the given bytes per call after the first. The sites whose blocks outlive the calls "
        "are listed with file:line.",
        "Free what the call allocates, or have its caller free what it returns (`wasmem leaks MODULE "
        "\"FUNC ARGS\"` shows the sites). Configure with --leak-call \"FUNC ARGS\" --max-leak-per-call BYTES."),
}

def artifact_location(path: str, base: str) -> dict:
    """``{"uri", "uriBaseId"}`` for a module path: relative to ``base`` (the source root, usually the
    current directory) when it lies inside it, else an absolute ``file:`` URI. Percent-encoded."""
    rel = path_in(path, base)
    if rel is not None:
        return {"uri": quote_from_bytes(os.fsencode(rel.replace(os.sep, "/")), safe="/"), "uriBaseId": SRCROOT}
    full = os.path.normpath(os.path.join(base, path)).replace(os.sep, "/")
    uri = quote_from_bytes(os.fsencode(full), safe="/:")
    return {"uri": "file://" + (uri if uri.startswith("/") else "/" + uri)}


def _rule(rule_id: str) -> dict:
    name, short, full, fix = RULE_INFO.get(
        rule_id, ("".join(w.capitalize() for w in rule_id.split("-")), f"wasmem check rule {rule_id}.",
                  f"wasmem check rule {rule_id}.", f"See `wasmem check --help` for --{rule_id}."))
    return {
        "id": rule_id,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": f"{full}\nFix: {fix}\nDocumentation: {RULES_HELP_URI}",
                 "markdown": f"{full}\n\n**Fix:** {fix}\n\n[Rules of `wasmem check`]({RULES_HELP_URI})"},
        "helpUri": RULES_HELP_URI,
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["webassembly", "memory", "wasmem"]},
    }


def _fingerprint(rule_id: str, uri: str) -> str:
    # A result is about a whole module, so its identity across runs is (rule, module path): the alert
    # stays open while the rule fails on that module, whatever else changes in the module's bytes.
    return hashlib.sha256(f"{rule_id}\0{uri}".encode()).hexdigest()[:16] + ":1"


def to_sarif(reports, rules: list[str], base: str | None = None) -> dict:
    """The SARIF log for :class:`wasmem.model.checks.ModuleReport` s. ``rules`` are the ids of the rules
    that ran (``Rules.active``); ``base`` is the directory relative URIs are relative to (default: the
    current directory)."""
    base = os.path.abspath(base or os.getcwd())
    rule_ids = list(rules)
    for m in reports:
        for r in m.results:
            if r.rule not in rule_ids:
                rule_ids.append(r.rule)
    index = {rid: i for i, rid in enumerate(rule_ids)}

    artifacts: list[dict] = []
    artifact_index: dict[str, int] = {}
    results: list[dict] = []
    notifications: list[dict] = []

    def locate(path: str, line: int | None = None) -> dict:
        loc = artifact_location(path, base)
        key = loc["uri"]
        if key not in artifact_index:
            artifact_index[key] = len(artifacts)
            artifacts.append({"location": dict(loc), **({"roles": ["analysisTarget"]} if line is None else {})})
        physical = {"artifactLocation": {**loc, "index": artifact_index[key]}}
        if line is not None:
            physical["region"] = {"startLine": line}
        return {"physicalLocation": physical}

    def in_source(place: str) -> dict | None:
        """The location of a ``file:line`` place (a leak site's), or None when it has no line."""
        path, _, line = place.rpartition(":")
        return locate(path, int(line)) if path and line.isdigit() and int(line) > 0 else None

    for m in reports:
        location = locate(m.path)
        if m.error:
            notifications.append({
                "level": "error",
                "message": {"text": f"{shown(m.path)}: cannot be read: {shown(m.error)}"},
                "locations": [location],
            })
            continue
        for r in m.failures:
            text = f"{shown(r.message)} (measured {rule_value(r.measured)}, limit {rule_value(r.limit)})"
            details = [shown(d) for d in r.details]
            if details:
                text += "\n" + "\n".join(details)
            uri = location["physicalLocation"]["artifactLocation"]["uri"]
            places = [p for p in (in_source(s) for s in getattr(r, "sources", ())) if p is not None]
            result = {
                "ruleId": r.rule,
                "ruleIndex": index[r.rule],
                "level": "error",
                "message": {"text": text},
                "locations": places[:1] or [location],
                "partialFingerprints": {"primaryLocationLineHash": _fingerprint(r.rule, uri)},
                "properties": {"measured": _plain(r.measured), "limit": _plain(r.limit), "details": details},
            }
            if places:  # the module itself, and the other places
                result["relatedLocations"] = [{"id": k, **p} for k, p in enumerate([location, *places[1:]])]
            results.append(result)

    errors = any(m.error for m in reports)
    failed = any(m.failures for m in reports)
    invocation = {"executionSuccessful": not errors, "exitCode": 2 if errors else 1 if failed else 0}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "wasmem",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rid) for rid in rule_ids],
            }},
            "invocations": [invocation],
            "artifacts": artifacts,
            "results": results,
        }],
    }


def _plain(v):
    """A measured value or limit as JSON data: numbers as they are, text escaped."""
    if v is None or isinstance(v, (bool, int, float)):
        return v
    return shown(v)
