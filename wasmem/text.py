"""One escaping policy for text a module controls (export, import, module, section and symbol names,
messages that embed them, paths) wherever it reaches a person: a terminal, an error line, an SVG,
JUnit XML, a GitHub annotation, a SARIF message. Stdlib only, so every layer may use it.

``shown(text)`` makes text safe and single-line: every character that could drive a terminal, start a
line of its own, reorder what a viewer shows, hide itself, or make XML 1.0 invalid becomes a visible
escape (``\\n``, ``\\x1b``, ``\\u202e``); everything else (non-ASCII letters, emoji, CJK) stays. JSON
output keeps exact names: that is data, and ``json`` escapes it itself.

Escaped:
- C0 controls (U+0000–U+001F, with ``\\n``, ``\\r``, ``\\t`` spelled so), DEL and C1 controls (U+007F–U+009F);
- format characters (general category Cf): bidirectional controls U+061C, U+200E–U+200F, U+202A–U+202E,
  U+2066–U+2069; zero-width U+200B–U+200D, U+2060–U+2064, U+FEFF; the soft hyphen, tag characters
  (U+E0000–U+E007F) and the rest of Cf;
- the line and paragraph separators U+2028, U+2029 (viewers break lines there);
- lone surrogates (an undecodable file name: not UTF-8, not XML) and U+FFFE, U+FFFF (not XML).

A backslash is kept as it is, so ``\\x1b`` in a name reads the same as an escaped ESC: the output can
be ambiguous, never unsafe.
"""

from __future__ import annotations

import re

# General category Cf (Unicode 15.1), plus the unassigned U+2065 inside the bidi/invisible block
_FORMAT = ("\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
           "\u2060-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
           "\U0001d173-\U0001d17a\U000e0000-\U000e007f")
_OTHER = "\u2028\u2029\ud800-\udfff\ufffe\uffff"

# one line: every control including \n and \t
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT}{_OTHER}]")
# within a rendered line (rich segments): line structure (\n) and tabs (expanded by rich) are the
# renderer's own; everything else as above
_UNSAFE_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_FORMAT}{_OTHER}]")

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match) -> str:
    ch = m.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    c = ord(ch)
    if c < 0x100:
        return f"\\x{c:02x}"
    if c < 0x10000:
        return f"\\u{c:04x}"
    return f"\\U{c:08x}"


def shown(text) -> str:
    """``text`` (any object: ``str()`` of it; None → "") safe for a person, on one line."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if text.isascii() and text.isprintable():  # the common case: nothing to do, no regex
        return text
    return _UNSAFE.sub(_escape, text)


def shown_lines(text: str) -> str:
    """Like ``shown`` but keeps ``\\n`` and ``\\t``: for text whose line breaks are the program's own
    (rendered output), never for a name."""
    return _UNSAFE_IN_LINES.sub(_escape, text)


# ``unsafe_in_lines(text)``: a match when ``shown_lines`` would change ``text`` (else None); cheap
unsafe_in_lines = _UNSAFE_IN_LINES.search
