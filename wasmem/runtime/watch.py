"""``--watch``: turn the watch pass's hook calls into WatchHits (model/watch.py).

The use cases (app/watch.py: ``watch_spec``, ``attach_watch``) have the session rewritten for N watch ranges
and, once it is instantiated, resolve the targets (so a symbol path through pointers, ``node_a->next``, is
followed in the live memory) and make a :class:`WatchRecorder`, which writes the ranges into the module's
watch globals and puts its hook into the module's hook table. The session's WatchProbe (observers/) arms
the recorder around every entry into the guest.

A hit is reported *before* the instruction writes: the old bytes are read from memory, the new ones are
what the instruction is about to store (an atomic read-modify-write's result is computed from the old
value; a ``memory.copy`` reads its source). ``stop=True`` raises a HostTrap in the first hit, so the
write never happens and the trap's backtrace is the writer's call path.

Host writes: nothing in the module runs when a host function (WASI ``fd_read`` filling a buffer) writes,
so the recorder keeps a copy of the watched bytes (static targets up to ``SHADOW_BYTES`` in all) and
compares it with memory at each hit and when the call returns; a difference no instrumented write
explains is reported as a ``host`` write (with the bytes, without a code site).
"""

from __future__ import annotations

import struct

from ..budgets import value_of
from ..errors import UsageError, WasmemError
from ..instrument.accesses import CMPXCHG, COPY, FILL, INIT, LANE, READ, READ_LANE, RMW, STORE, V128
from ..model.ranges import diff_runs
from ..model.watch import MAX_VALUE_BYTES, WatchHit, WatchReport, WatchTarget
from .hooks import install_hook
from .hosts.base import HostTrap

SHADOW_BYTES = 1 << 20  # watched bytes compared for host writes when a call returns
SHADOW_PER_HIT = 4096  # ... and at every hit when the static targets are at most this big
MASK64 = (1 << 64) - 1
MAX_PATH = 64  # innermost frames of a hit's call path kept
REGION_NAMES = (".rodata", ".data", ".bss", "stack", "heap")


def through_pointer(text: str) -> bool:
    """A target re-resolved before every call: a symbol path that may go through a pointer (``node_a->next``,
    ``p[2]``, ``*p``); anything else is at a fixed address."""
    t = text.strip()
    return t.lower() != "sp" and t.lower() not in REGION_NAMES and any(c in t for c in ("->", "*", "["))


class WatchRecorder:
    """Records the hits of ``targets``. ``slots``: the module's range index of each target (default: target i
    in range i); ranges no target uses are programmed empty, so a session rewritten for N ranges can watch
    fewer targets and change them later (``set_targets``: the shell's `watch`/`unwatch`)."""

    def __init__(self, session, wpass, targets: list[WatchTarget], symbols, *, stop: bool, access: str,
                 resolve, trace: bool = False, slots: list[int] | None = None):

        self.session = session
        self.resolve = resolve  # text → WatchTarget in the memory as it is now (app/watch.py's resolver)
        self.wp = wpass
        self.symbols = symbols
        self.stop = stop
        self.stop_targets: set[str] = set()  # the shell's `watch TARGET --stop`: these targets stop, not all
        self.report = WatchReport(list(targets), access=access, stop=stop, sites=len(wpass.sites))
        self.max_hits = value_of(session.module, "watch-hits")  # --budget watch-hits=N
        self.trace = None
        self._trace_target = None
        if trace:
            top = MASK64 if wpass.at == "i64" else 1 << 32
            self._trace_target = WatchTarget("(memory 0)", "range", 0, top)
            self.trace = WriteTracer(session, symbols)
            self.report.write_map = self.trace.map
        self.call_label = ""
        self._locations: dict[int, str | None] = {}  # site → file:line
        self._armed = False
        self._pending: tuple[int, int] | None = None
        self._shadow: dict[int, bytes] = {}
        self._shadow_note = False
        self.set_targets(targets, slots)
        self._func = install_hook(session, wpass.exports["table"], 0, ("i32",) + ("i64",) * 4, self._hook)
        if getattr(session, "host", None) is not None:
            session.host.on_record = self._host_called  # wasmem's own host functions: name the writer

    def set_targets(self, targets: list[WatchTarget], slots: list[int] | None = None) -> None:
        """Watches ``targets`` from now on (each in its slot); the hits so far stay in the report."""
        n = self.wp.nranges - (self._trace_target is not None)
        slots = list(range(len(targets))) if slots is None else list(slots)
        if len(slots) != len(targets) or len(set(slots)) != len(slots) or any(not 0 <= s < n for s in slots):
            raise UsageError(f"--watch: {len(targets)} targets do not fit the module's {n} watch ranges")
        for t, s in zip(targets, slots, strict=True):
            if t.dynamic != (s == self.wp.sp_range):
                raise UsageError("--watch sp: only the module's stack-overflow range can watch sp")
        self.targets = list(targets)
        self.slots = slots
        self.report.targets = self.targets
        # re-resolved before each call: a symbol path through a pointer (node_a->next) or an index
        self._moving = [i for i, t in enumerate(self.targets) if t.kind in ("symbol", "range")
                        and through_pointer(t.text)]
        self._program()

    def _program(self) -> None:
        """Writes the targets' ranges (and the filter box around them) into the module's watch globals."""
        session, wpass = self.session, self.wp
        ex = session.exports
        is64 = wpass.at == "i64"
        static = [t for t in self.targets if not t.dynamic]
        total = sum(t.size for t in static)
        self._shadowed = [i for i, t in enumerate(self.targets) if not t.dynamic] if total <= SHADOW_BYTES else []
        self._per_hit = total <= SHADOW_PER_HIT
        if total > SHADOW_BYTES and not self._shadow_note:
            self._shadow_note = True
            self.report.notes.append(f"host writes are not looked for: the watched ranges hold {total} bytes "
                                     f"(at most {SHADOW_BYTES})")
        bits = 64 if is64 else 32
        amask = MASK64 if is64 else 0xFFFFFFFF

        def signed(v: int, nbits: int) -> int:
            v &= (1 << nbits) - 1
            return v - (1 << nbits) if v >> (nbits - 1) else v

        ranges: dict[int, WatchTarget] = dict(zip(self.slots, self.targets, strict=True))
        if self._trace_target is not None:
            ranges[wpass.nranges - 1] = self._trace_target
        if ranges:
            # the filter box: every watched byte, widened by the largest access below
            lo = min(t.start for t in ranges.values())
            hi = max(t.end for t in ranges.values())
            flo = max(0, lo - 15)
            hi = min(hi, flo + amask)  # the span fits the address type (the last byte is then not a candidate)
            ex[wpass.exports["filter_lo"]].set_value(session.store, signed(flo & amask, bits))
            ex[wpass.exports["filter_span"]].set_value(session.store, signed((hi - flo) & amask, bits))
        else:
            ex[wpass.exports["filter_lo"]].set_value(session.store, 0)
            ex[wpass.exports["filter_span"]].set_value(session.store, 0)  # span 0: nothing is a candidate
        for k, (lo_name, hi_name) in enumerate(wpass.range_exports):
            t = ranges.get(k)
            a, b = (t.start, t.end) if t is not None else (0, 0)  # [0, 0): never hit
            ex[lo_name].set_value(session.store, signed(a, 64))
            ex[hi_name].set_value(session.store, signed(b, 64))

    def retarget(self) -> None:
        """Re-resolves the targets that go through a pointer (``node_a->next``, ``p[2]``) in the memory as it
        is now; a target that moved is watched at its new place (and a note says so); one that no longer
        resolves (a null pointer) stays where it was."""
        if not self._moving:
            return
        moved = False
        for i in self._moving:
            t = self.targets[i]
            try:
                fresh = self.resolve(t.text)
            except WasmemError as exc:
                if t.start == t.end:
                    continue  # still null: still pending
                note = (f"{t.text}: not re-resolved before {self.call_label or 'a call'} ({exc}); still watching "
                        f"[{t.start:#x}, {t.end:#x})")
                if note not in self.report.notes and len(self.report.notes) < 100:
                    self.report.notes.append(note)
                continue
            if (fresh.start, fresh.end) != (t.start, t.end):
                if len(self.report.notes) < 100:
                    was = "unresolved" if t.start == t.end else f"[{t.start:#x}, {t.end:#x})"
                    self.report.notes.append(f"{t.text} re-resolved ({self.call_label or 'a call'}): "
                                             f"{was} → [{fresh.start:#x}, {fresh.end:#x})")
                t.start, t.end, t.label, t.type_name = fresh.start, fresh.end, fresh.label, fresh.type_name
                moved = True
        if moved:
            self._program()

    # -- arming around each call -------------------------------------------------------------------
    def arm(self) -> None:
        self._pending = None
        self.retarget()
        self._shadow = {i: self._read_range(self.targets[i]) for i in self._shadowed}
        self._armed = True

    def disarm(self) -> None:
        self._armed = False
        try:
            self._sync()
        except WasmemError:
            pass

    def _read_range(self, t: WatchTarget) -> bytes:
        size = self.session.memory_size(0)
        a, b = min(t.start, size), min(t.end, size)
        return self.session.read(a, b - a) if b > a else b""

    def _host_called(self, call) -> None:
        """A host function of wasmem's finished: what changed since is its doing."""
        if not self._armed or not self._shadowed:
            return
        try:
            self._sync(f"{call.module}.{call.name}")
        except WasmemError:
            pass

    def _sync(self, host: str | None = None) -> None:
        """Takes in the last hit's write, then reports what else changed the watched bytes (``host``: the
        import that just ran, when known)."""
        if self._pending is not None:
            pa, pn = self._pending
            for i in self._shadowed:
                t = self.targets[i]
                a, b = max(pa, t.start), min(pa + pn, t.end)
                if a < b and i in self._shadow:
                    cur = self._shadow[i]
                    fresh = self.session.read(a, b - a)
                    self._shadow[i] = cur[:a - t.start] + fresh + cur[b - t.start:]
            self._pending = None
        for i in self._shadowed:
            t = self.targets[i]
            old = self._shadow.get(i)
            now = self._read_range(t)
            if old is None or old == now:
                self._shadow[i] = now
                continue
            for a, b in _diff_runs(old, now):
                self._add(WatchHit(0, "host", t.start + a, b - a, [t.text], self.call_label, function=host,
                                   label=self._label(t.start + a)[0], old=old[a:a + MAX_VALUE_BYTES][:b - a],
                                   new=now[a:a + MAX_VALUE_BYTES][:b - a]))
            self._shadow[i] = now

    def _add(self, hit: WatchHit) -> bool:
        if len(self.report.hits) >= self.max_hits:
            self.report.dropped += 1
            return False
        hit.seq = len(self.report.hits) + self.report.dropped + 1
        self.report.hits.append(hit)
        return True

    # -- the hook ---------------------------------------------------------------------------------
    def _hook(self, site: int, addr: int, size: int, v0: int, v1: int) -> None:
        try:
            self._on_hit(site, addr & MASK64, size & MASK64, v0 & MASK64, v1 & MASK64)
        except HostTrap:
            raise
        except Exception as exc:  # noqa: BLE001 - a reporting failure must not change the program
            self.report.notes.append(f"a hit could not be reported: {exc}")

    def _on_hit(self, site: int, addr: int, size: int, v0: int, v1: int) -> None:
        s = self.wp.sites[site]
        session = self.session
        if self.trace is not None:
            if not s.is_read:
                self.trace.add(s.func_index, addr, size)
            sp = session.get_sp() if self.wp.sp_range is not None else None
            if not any(addr < t.end and addr + size > (t.start if not t.dynamic else (sp or 0))
                       for t in self.targets):
                return
        if len(self.report.hits) >= self.max_hits and not self.stop and not self.stop_targets:
            self.report.dropped += 1  # counted only: nothing more to read or label
            if not s.is_read:
                self._pending = (addr, size)
            return
        if self._per_hit:
            self._sync()
        memsize = session.memory_size(0)
        shown = min(size, MAX_VALUE_BYTES)
        old = session.read(addr, shown) if addr + shown <= memsize else None
        new, wrote = self._new_bytes(s, old, size, shown, v0, v1)
        sp = session.get_sp()
        hit_targets = [t.text for t in self.targets
                       if addr < t.end and addr + size > (t.start if not t.dynamic else (sp or 0))]
        label, vtype, fmt = self._label(addr, size)
        loc = self._locations.get(site, False)
        if loc is False:
            loc = None
            if self.symbols is not None and self.symbols.has_dwarf:
                try:
                    loc = self.symbols.location_of(s.offset - self.symbols.code_start)
                except Exception:  # noqa: BLE001
                    loc = None
            self._locations[site] = loc
        hit = WatchHit(0, "read" if s.is_read else "write", addr, size, hit_targets, self.call_label,
                       function=session.function_name(s.func_index), func_index=s.func_index, offset=s.offset,
                       op=s.name, location=loc, label=label, old=old, new=new, value_type=vtype, wrote=wrote,
                       path=self._call_path())
        if fmt is not None and old is not None and len(old) == size:
            hit.old_value = fmt(old)
            if new is not None and len(new) == size:
                hit.new_value = fmt(new)
        added = self._add(hit)
        if not s.is_read:
            self._pending = (addr, size)
        if added and (self.stop or not self.stop_targets.isdisjoint(hit_targets)):
            self.report.stopped_at = hit.seq
            what = f"{s.name} of {size} byte{'s' if size != 1 else ''} at {addr:#x}"
            if label:
                what += f" {label}"
            where = f" in {hit.function}" + (f" ({loc})" if loc else "")
            raise HostTrap("watchpoint", f"{what}{where} (--stop: not written)")

    def _call_path(self) -> list[str] | None:
        """The functions active at the hit, outermost first (the shadow stack of callpath.py)."""
        got = self.session.call_path(MAX_PATH)
        if got is None:
            return None
        names, depth = got
        if depth > len(names):
            names.insert(0, f"… {depth - len(names)} more")
        return names

    def _new_bytes(self, s, old, size, shown, v0, v1):
        kind = s.kind
        if kind in (READ, READ_LANE):
            return None, False
        if kind in (STORE, LANE):
            return v0.to_bytes(8, "little")[:size], True
        if kind == V128:
            return v0.to_bytes(8, "little") + v1.to_bytes(8, "little"), True
        if kind == RMW and old is not None:
            o = int.from_bytes(old, "little")
            mask = (1 << (8 * size)) - 1
            opname = s.name.rsplit(".", 1)[1].split("_")[0]
            n = {"add": o + v0, "sub": o - v0, "and": o & v0, "or": o | v0, "xor": o ^ v0,
                 "xchg": v0}.get(opname, v0)
            return (n & mask).to_bytes(size, "little"), True
        if kind == CMPXCHG and old is not None:
            mask = (1 << (8 * size)) - 1
            if int.from_bytes(old, "little") != v0 & mask:
                return None, False
            return (v1 & mask).to_bytes(size, "little"), True
        if kind == FILL:
            return bytes([v0 & 0xFF]) * shown, True
        if kind == COPY:
            if v1 != 0 or v0 + shown > self.session.memory_size(0):
                return None, True
            return self.session.read(v0, shown), True
        if kind == INIT:
            segs = self.session.module.data_segments
            if v1 < len(segs):
                data = bytes(self.session.module.get_segment_bytes(segs[v1]))
                return data[v0:v0 + shown], True
        return None, True

    # -- labels -------------------------------------------------------------------------------------
    def _label(self, addr: int, size: int = 0):
        """(``config.meta.count`` / ``<sym+off>``, the field's type name, a formatter for its bytes)."""
        symbols = self.symbols
        if symbols is None:
            return None, None, None
        try:
            got = symbols.symbol_at(addr)
        except Exception:  # noqa: BLE001
            return None, None, None
        if got is None:
            return None, None, None
        sym, off = got
        if sym.type is not None:
            try:
                path, rest, leaf = field_path(sym.display_name, sym.type, off)
            except Exception:  # noqa: BLE001
                path, rest, leaf = None, off, None
            if path is not None:
                text = path + (f"+{rest:#x}" if rest else "")
                fmt = _formatter(leaf, size) if leaf is not None and not rest else None
                return text, leaf.name if leaf is not None else None, fmt
        return (f"<{sym.display_name}+{off:#x}>" if off else f"<{sym.display_name}>"), None, None


class WriteTracer:
    """``--trace-writes``: sums every write per (function, symbol or region) and flags the stray ones."""

    def __init__(self, session, symbols):
        from bisect import bisect_right

        from ..model.watch import WriteMap

        self.session = session
        self.symbols = symbols
        self.map = WriteMap()
        self.max_rows = value_of(session.module, "watch-hits")  # rows kept (--budget watch-hits=N)
        self._rows: dict[tuple, object] = {}
        self._regions = sorted(session.regions, key=lambda r: r.start)
        self._starts = [r.start for r in self._regions]
        self._bisect = bisect_right
        self._units: dict[int, str | None] = {}
        if symbols is not None:
            for f in getattr(symbols, "functions", ()):
                if f.func_index is not None:
                    self._units.setdefault(f.func_index, f.compile_unit)

    def _region(self, addr: int):
        i = self._bisect(self._starts, addr) - 1
        if i >= 0 and addr < self._regions[i].end:
            return self._regions[i]
        return None

    def add(self, func_index: int, addr: int, size: int) -> None:
        from ..model.watch import WriteMapRow

        self.map.writes += 1
        sym = None
        if self.symbols is not None:
            try:
                got = self.symbols.symbol_at(addr)
            except Exception:  # noqa: BLE001
                got = None
            if got is not None and got[0].kind not in ("segment", "marker") and got[0].size:
                sym = got[0]
        reg = self._region(addr)
        rname = (reg.label.split(" ")[0] if reg.kind == "data" else reg.kind) if reg is not None else None
        key = (func_index, sym.display_name if sym is not None else None, rname)
        row = self._rows.get(key)
        if row is None:
            if len(self._rows) >= self.max_rows:
                self.map.dropped += 1
                return
            fname = self.session.function_name(func_index)
            flag = None
            if rname == ".rodata":
                flag = "rodata"
            elif sym is not None and sym.scope and sym.scope != fname:
                flag = f"static of {sym.scope}"
            elif (sym is not None and not sym.external and sym.compile_unit
                  and self._units.get(func_index) not in (None, sym.compile_unit)):
                flag = f"file-static of {sym.compile_unit}"
            row = WriteMapRow(fname, func_index, sym.display_name if sym is not None else (rname or "?"),
                              "symbol" if sym is not None else "region", rname, flag=flag)
            self._rows[key] = row
            self.map.rows.append(row)
        row.bytes += size
        row.count += 1


def field_path(name: str, typ, off: int, depth: int = 0):
    """(``name.field[2].x``, bytes left over, the innermost type holding ``off``) for an offset into a
    value of DWARF type ``typ``; bounded by the type's nesting."""
    from ..debuginfo.typesys import ArrayType, StructType

    t = typ.strip()
    for _ in range(64):
        if isinstance(t, StructType) and t.members:
            best = None
            for m in t.members:
                msize = m.type.size or 0
                if m.offset <= off < m.offset + max(msize, 1) and m.bit_size is None:
                    best = m
                    break
            if best is None:
                return name, off, typ
            name = f"{name}.{best.name}" if best.name else name
            off -= best.offset
            typ = best.type
            t = typ.strip()
            continue
        if isinstance(t, ArrayType) and t.element.size:
            esz = t.element.size
            i = off // esz
            if t.count is not None and i >= t.count:
                return name, off, typ
            name = f"{name}[{i}]"
            off -= i * esz
            typ = t.element
            t = typ.strip()
            continue
        break
    return name, off, typ


def _formatter(typ, size: int):
    t = typ.strip()
    if t.size != size or size not in (1, 2, 4, 8):
        return None
    kind = t.kind
    if kind == "base":
        enc = t.encoding
        if enc == "float" and size in (4, 8):
            f = "<f" if size == 4 else "<d"
            return lambda b: repr(struct.unpack(f, b)[0])
        signed = enc in ("signed", "signed_char")
        return lambda b: str(int.from_bytes(b, "little", signed=signed))
    if kind == "pointer":
        return lambda b: f"{int.from_bytes(b, 'little'):#x}"
    if kind == "enum":
        names = {v: n for n, v in t.enumerators}

        def enum(b):
            v = int.from_bytes(b, "little", signed=True)
            return names.get(v, str(v))
        return enum
    return None


def _diff_runs(a: bytes, b: bytes) -> list[tuple[int, int]]:
    """[start, end) runs where ``a`` and ``b`` differ (gaps under 8 bytes merged), found by C-level comparisons
    (``model.ranges.diff_runs``): equal stretches cost a ``memcmp``, changed ones no loop per byte."""
    return diff_runs(a, b, gap=7)
