"""The layering holds: no import cycle among the services (modules or domain packages), services
never import a face of the app (blueprints, API, console, jobs, CLI), models never import services.

Read statically from the source (ast), counting imports inside functions too: a function-level
import hides a cycle from Python at load time, not from the reader.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autotrack"
SERVICES = "autotrack.services"
# Everything under autotrack/ that faces a user or a process: services are below all of them.
FACES = (
    "web",
    "admin",
    "api",
    "jobs",
    "agent",
    "portal",
    "manager",
    "auth",
    "inbox",
    "feedback",
    "files",
    "health",
    "cli",
)


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(under):
    """{module name: path} of every Python file under a directory of autotrack/."""
    return {_module_name(path): path for path in sorted((PACKAGE / under).rglob("*.py"))}


def _imports(name, path):
    """The absolute names a module imports, each with its line: `from a import b` gives a.b (b may
    be a submodule or a name defined in a)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _service_graph():
    """{service module: {service modules it imports}}. Importing a.b.c also runs a.b: a module
    outside package a.b depends on its __init__ too."""
    modules = _modules("services")
    graph = {}
    for name, path in modules.items():
        edges = set()
        for target, _ in _imports(name, path):
            while target and target not in modules:
                target = target.rpartition(".")[0]  # `from x import function` names x
            if not target or target == name:
                continue
            edges.add(target)
            parent = target.rpartition(".")[0]
            while parent.startswith(SERVICES + ".") and not name.startswith(parent + "."):
                edges.add(parent)
                parent = parent.rpartition(".")[0]
        graph[name] = edges - {name}
    return graph


def _unit(name):
    """The domain package (services/sla/, …) or kernel module a service module belongs to."""
    rest = name[len(SERVICES) + 1 :] if name != SERVICES else ""
    return rest.split(".")[0] or "(services)"


def _cycle(graph):
    """A cycle of the graph as a list of nodes (first == last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_service_modules_import_each_other_one_way_only():
    cycle = _cycle(_service_graph())
    assert cycle is None, "import cycle among services: " + " -> ".join(cycle)


def test_service_domain_packages_import_each_other_one_way_only():
    units = {}
    for name, targets in _service_graph().items():
        units.setdefault(_unit(name), set()).update(_unit(t) for t in targets if _unit(t) != _unit(name))
    cycle = _cycle(units)
    assert cycle is None, "import cycle among the services' packages: " + " -> ".join(cycle)


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize(
    "layer, forbidden",
    [
        ("services", tuple(f"autotrack.{face}" for face in FACES)),
        ("models", (SERVICES,) + tuple(f"autotrack.{face}" for face in FACES)),
    ],
)
def test_lower_layers_never_import_upper_ones(layer, forbidden):
    existing = [
        f
        for f in forbidden
        if (ROOT / f.replace(".", "/")).is_dir() or (ROOT / f.replace(".", "/")).with_suffix(".py").is_file()
    ]
    assert existing, "the layer names below no longer match autotrack/"
    wrong = sorted(
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for name, path in _modules(layer).items()
        for target, line in _imports(name, path)
        if any(target == f or target.startswith(f + ".") for f in forbidden)
    )
    assert not wrong, f"{layer} import what sits above them:\n" + "\n".join(wrong)


# What belongs to HTTP: the request, the signed-in user, URLs from the request, responses, request
# data types. Services get addresses and actors from their caller (security_log.Origin), build
# links from AUTOTRACK_BASE_URL (services/urls.py) and take typed values, not request args.
HTTP = (
    "flask.request",
    "flask.has_request_context",
    "flask.url_for",
    "flask.session",
    "flask.g",
    "flask.Response",
    "flask.stream_with_context",
    "flask.make_response",
    "flask.redirect",
    "flask.abort",
    "flask.jsonify",
    "flask_login",
    "werkzeug.datastructures",
    "werkzeug.wrappers",
)
# (module, import) still allowed, with the reason.
HTTP_ALLOWED = {
    # Attachments take one file type from uploads and from received mail alike: werkzeug's, a
    # plain file object with a name and a type, not a request.
    ("autotrack.services.mail.intake", "werkzeug.datastructures.FileStorage"),
}


def test_services_read_no_http():
    wrong = sorted(
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for name, path in _modules("services").items()
        for target, line in _imports(name, path)
        if any(target == f or target.startswith(f + ".") for f in HTTP) and (name, target) not in HTTP_ALLOWED
    )
    assert not wrong, "services reach into HTTP (the web layer's to handle):\n" + "\n".join(wrong)


def test_services_write_no_server_sent_events():
    """The stream's wire (event:, data:, retry: lines, heartbeats) is the web layer's
    (web/live_stream.py); services/live.py only wakes streams and reads what they send."""
    wire = ("event: ", "data: {", "retry: ", "text/event-stream", "keep-alive")
    wrong = sorted(
        f"{path.relative_to(ROOT)}: {marker!r}"
        for path in (PACKAGE / "services").rglob("*.py")
        for marker in wire
        if marker in path.read_text()
    )
    assert not wrong, "services write the SSE wire format:\n" + "\n".join(wrong)
