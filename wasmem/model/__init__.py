"""Pure interpretation of a parsed module: layout, stack frames, values, checks. Stdlib only."""
