"""Kept for older importers: the host functions now live in :mod:`wasmem.runtime.hosts`, one module per
host profile. Everything that was here is re-exported from there."""

from __future__ import annotations

from .hosts import WASI_MODULES, HostCall, HostState, HostTrap, make_host_function, zeros
from .hosts.base import ABORT_NAMES, zero_of
from .hosts.emscripten import MEMCPY_NAMES, RESIZE_NAMES

__all__ = ["WASI_MODULES", "HostCall", "HostState", "HostTrap", "make_host_function", "zeros", "zero_of",
           "ABORT_NAMES", "MEMCPY_NAMES", "RESIZE_NAMES"]
