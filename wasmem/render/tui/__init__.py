"""The full-screen views (textual): `wasmem view`, the memory inspector."""
