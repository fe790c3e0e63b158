"""The observer interface (runtime/observers): a plug-in joins every run without the invoke path knowing it,
and calls nest (a hook that runs another call gives the outer call back its own limits)."""

import pytest

import wasmem
from wasmem.runtime.observers import Observer
from wasmem.runtime.session import Session

HOOKED = """
(module
  (import "env" "cb" (func $cb))
  (memory (export "memory") 1)
  (func $spin (param $n i32) (local $i i32)
    (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
             (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "outer") (param $n i32) (call $spin (local.get $n)) (call $cb) (call $spin (local.get $n)))
  (func (export "inner") (param $n i32) (call $spin (local.get $n)))
  (func (export "poke") (param $a i32) (i32.store (local.get $a) (i32.const 7))))
"""


class Recorder(Observer):
    name = "recorder"

    def __init__(self):
        self.events = []
        self.session = None

    def attach(self, session):
        self.session = session
        self.events.append("attach")

    def begin_invoke(self):
        self.events.append("begin_invoke")

    def end_invoke(self):
        self.events.append("end_invoke")

    def begin_call(self, call):
        self.events.append(("begin_call", call.sp, sorted(call.before)))

    def end_call(self, call, result):
        self.events.append(("end_call", result.name, result.ok))


def test_a_plug_in_observer_sees_every_entry_and_every_call(wat_file):
    made = []

    def probe():
        made.append(Recorder())
        return made[-1]

    with wasmem.open(wat_file(HOOKED), host="none", probes=(probe,)) as s:
        (rec,) = made
        assert s.observer("recorder") is rec and rec.session is s
        r = s.call("poke", ["64"])
        assert r.ok and [c.start for c in r.changes] == [64]
        assert rec.events == ["attach", ("begin_call", None, [0]), "begin_invoke", "end_invoke",
                              ("end_call", "poke", True)]
        # a reinstrumented session makes its own observers: the state of one never leaks into the other
        fresh = s.reinstrument(timeout=5)
        try:
            assert len(made) == 2 and fresh.observer("recorder") is made[1] is not rec
            assert fresh.read(64, 4) == bytes([7, 0, 0, 0])  # memory carried over
        finally:
            fresh.close()


def _fuel_per_iteration(path) -> tuple[int, int]:
    """(fuel outer(n) takes, fuel inner(n) takes) measured on a plain session: what the nested test budgets."""
    with Session(wasmem.load_module(path), host="none", fuel=10**9) as s:
        used = []
        for name in ("outer", "inner"):
            s.invoker.arm()
            s.invoker.disarm()
            out = s.invoke(s.exports[name], [1000])
            assert out == []
            used.append(10**9 - s.store.get_fuel())
    return used[0], used[1]


def test_a_nested_call_gets_its_own_fuel_and_gives_the_outer_call_back_what_it_had(wat_file):
    path = wat_file(HOOKED)
    outer, inner = _fuel_per_iteration(path)
    budget = outer + inner // 2  # enough for outer alone and inner alone, not for both from one tank
    assert outer < budget and inner < budget < outer + inner
    with Session(wasmem.load_module(path), host="none", fuel=budget) as s:
        nested = []

        def on_record(call):  # the host function env.cb ran: make a call from inside it
            nested.append(s.invoke(s.exports["inner"], [1000]))

        s.host.on_record = on_record
        r = s.call("outer", ["1000"])
        assert nested == [[]], nested  # the nested call had its own fuel
        assert r.ok, r.trap  # and the outer one went on with what it had left
        # the budget is real: twice the outer work from one tank runs out
        s.host.on_record = None
        assert 2 * outer > budget and s.call("outer", ["2000"]).trap.kind == "out_of_fuel"


def test_paused_keeps_the_running_call_limits_aside(wat_file):
    with Session(wasmem.load_module(wat_file(HOOKED)), host="none", fuel=10**6, timeout=30) as s:
        inv = s.invoker
        inv.arm()
        try:
            inv.store.set_fuel(12345)
            with inv.paused():
                assert inv.watcher is None
            assert inv.watcher is not None and 0 < inv.watcher.deadline
            assert inv.store.get_fuel() == 12345
        finally:
            inv.disarm()


@pytest.mark.parametrize("name", ["stack", "callpath", "watch"])
def test_built_in_observers_are_found_by_name(name):
    from conftest import sample

    with wasmem.open(sample("memdemo.wasm"), watch={"ranges": 1, "reads": False, "sp_range": None}) as s:
        assert s.observer(name) is not None
        assert s.observer("heap") is None


IMMUTABLE_SP = """
(module
  (memory (export "memory") 1)
  (global $sp i32 (i32.const 65536))
  (func (export "f") (result i32) (global.get $sp)))
"""


def test_a_rewrite_that_fails_names_the_option_or_drops_a_measuring_pass(wat_file):
    """The stack pass refuses an immutable "stack pointer": with --check-stack that is the user's error (named
    by the option); a pass that only measures is given up and the session runs unmeasured."""
    from wasmem.errors import UsageError

    module = wasmem.load_module(wat_file(IMMUTABLE_SP))
    with pytest.raises(UsageError, match=r"^--check-stack: cannot instrument: global 0 is not a mutable"):
        Session(module, sp_global=0, stack_range=(1024, 65536), check_stack=True)
    with Session(module, sp_global=0) as s:
        assert s.measure is None and s.instrumented is None
        assert s.call("f", []).results == [65536]
