"""Fuzz the live API against its own OpenAPI spec with schemathesis (a CI stage, `make fuzz-api`).

Serves the app on 127.0.0.1 (a fresh database, migrated and seeded with the demo organization),
takes tokens for a demo agent and a demo employee, and runs schemathesis as each over every
operation with the checks the contract needs: no server error, and every status code, content
type, header and body as the spec declares. Exits non-zero on any finding; each finding becomes a regression test in
tests/api/test_api.py.

    .venv/bin/python tests/api/fuzz.py [--max-examples 25] [--database-url URL]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
DEMO_PASSWORD = "autotrack-demo"
# Each role walks other code paths (and refusals): the spec must hold for all of them.
DEMO_USERS = {"agent": "agent@acme.example", "employee": "employee@acme.example"}


def serve(url):
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    import config
    from autotrack import create_app
    from autotrack.extensions import db
    from autotrack.models.types import utcnow
    from autotrack.services.org import demo
    from autotrack.services.people import api_tokens

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": config.sqlalchemy_engine_options(url),
            "AUTOTRACK_EMBEDDED_JOBS": False,
            "AUTOTRACK_API_TOKEN_PER_ADDRESS": 10_000,
            "AUTOTRACK_API_TOKEN_PER_ACCOUNT": 10_000,
        }
    )
    with app.app_context():
        upgrade()
        demo.seed_demo(now=utcnow())
        db.session.commit()
        tokens = {
            role: api_tokens.issue(email, DEMO_PASSWORD, "127.0.0.1", utcnow())["access_token"]
            for role, email in DEMO_USERS.items()
        }
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="autotrack-fuzz-"))
    url = args.database_url or f"sqlite:///{workdir / 'fuzz.db'}"
    server, tokens = serve(url)
    base = f"http://127.0.0.1:{server.server_port}"
    failed = []
    for role, token in tokens.items():
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{base}/api/v1/openapi.json",
            "--url",
            base,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(args.max_examples),
            "--seed",
            "1",
            "--workers",
            "2",
            "--report",
            "junit",
            "--report-dir",
            str(ROOT / "test-artifacts" / "schemathesis" / role),
        ]
        print(f"\n=== schemathesis as the demo {role}", flush=True)
        result = subprocess.run(command, cwd=workdir, env={**os.environ, "SCHEMATHESIS_HOOKS": ""})
        if result.returncode:
            failed.append(role)
    server.shutdown()
    if failed:
        sys.exit(f"schemathesis found problems as: {', '.join(failed)}")


if __name__ == "__main__":
    main()
