"""The click command line. Each command parses arguments, makes one library call and renders."""
