"""Binary rewriting for the debugger (pure stdlib; uses ``wasmem.parser``, never wasmtime).

``rewrite(data, passes)`` applies a list of passes in one walk over the code section and keeps a map
from new to original code offsets (``rewriter.py``). The passes: ``StackPass`` (every write of the stack
pointer goes through a hook: exact peak, overflow stop; ``stack.py``) and ``WatchPass`` (every write of
linear memory is checked inline against watched ranges; ``watch.py``).
"""

from .rewriter import Builder, Edit, FunctionContext, Pass, Rewritten, rewrite
from .stack import Instrumented, StackPass, instrument_stack
from .watch import WatchPass, WatchSite

__all__ = ["Builder", "Edit", "FunctionContext", "Pass", "Rewritten", "rewrite", "Instrumented", "StackPass",
           "instrument_stack", "WatchPass", "WatchSite"]
