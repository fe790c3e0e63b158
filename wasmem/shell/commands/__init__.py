"""The shell's commands by topic, each topic a mixin of ``Shell`` (core.py) that registers its commands
with ``registry.command``: calls, memory, state, watch, heap, info, script, session."""
