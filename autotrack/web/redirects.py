"""The one check for every "go back there afterwards" parameter (login `next=`, the console's
`url=`, forms' hidden `next`): only a path on this site is followed, never another origin.

Browsers repair what they are given before following it: they drop tabs and line breaks
anywhere, strip leading spaces and control characters, read `\\` as `/`, and take `http:evil`
or `http:///evil` as http://evil. So a target is accepted only when it is already plainly local:
one leading `/`, then no second `/` or `\\` right after it, no backslash, whitespace or control
character anywhere, and no scheme or host once parsed."""

from urllib.parse import urlsplit

MAX_LENGTH = 2000


def is_local_path(target):
    """True when following `target` cannot leave this site (see the module's note)."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return False
    if not target.startswith("/") or target[1:2] in ("/", "\\"):
        return False  # "//evil" and "/\evil" are another host to a browser
    if any(char == "\\" or char.isspace() or ord(char) < 32 or 127 <= ord(char) < 160 for char in target):
        return False  # browsers turn \ into / and drop tabs and line breaks: "/\t/evil" is "//evil"
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def local_path_or(target, fallback):
    """`target` when it is a local path, else `fallback` (the page's usual next step)."""
    return target if is_local_path(target) else fallback
