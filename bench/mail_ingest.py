"""Benchmark: mail in through the IMAP fetch's code path (a fetch's messages stored in one
commit, then processed in batches of one transaction each), then the pipe command's (one message:
store, commit, process, commit), in one process.

Not a test: run by hand and read the table.

    .venv/bin/python bench/mail_ingest.py                  # 10,000 messages, SQLite
    .venv/bin/python bench/mail_ingest.py --n 2000 --database-url 'mysql+pymysql://root@127.0.0.1:3306/autotrack_mailbench?charset=utf8mb4'

One organization, one mailbox routing to a department of 5 agents, 200 employees writing. 60% of
the messages raise tickets, 40% answer an earlier one (threaded by In-Reply-To, with a quoted
history to strip); every 20th carries a small PDF. Each new ticket notifies the 5 agents and
queues an acknowledgement; each reply is a comment. Target (2-core machine): >= 200 messages/s
on SQLite and on MariaDB. Every run checks exactly-once: one stored row per message, one ticket
per new message, one comment per reply, nothing made by the duplicates.
"""

import argparse
import random
import resource
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sla_sweep import make_app, print_table, reset_database  # noqa: E402  (same set-up and output)

EMPLOYEES = 200
AGENTS = 5


def seed(url):
    from flask_migrate import upgrade

    from autotrack.extensions import db
    from autotrack.models import Mailbox
    from autotrack.services.org import orgs

    reset_database(url)
    app = make_app(url)
    with app.app_context():
        upgrade()
        org = orgs.create_org("Mail Corp", "mail", admin_email="admin@mail.example", admin_password="bench-pass-1")
        desk = orgs.create_department(org, "Desk")
        for i in range(AGENTS):
            orgs.create_user(org, f"agent{i}@mail.example", role_key="agent", department=desk)
        for i in range(EMPLOYEES):
            orgs.create_user(org, f"employee{i}@mail.example")
        db.session.add(Mailbox(org_id=org.id, name="desk", address="desk@mail.example", department_id=desk.id))
        db.session.commit()
    return app


def messages(n, seed_value=7):
    """n raw messages: new tickets and replies to earlier ones, in arrival order."""
    rng = random.Random(seed_value)
    raised = []  # (message id, subject, sender): replies come from the ticket's requester
    out = []
    for i in range(n):
        message = EmailMessage()
        sender = f"Employee <employee{rng.randrange(EMPLOYEES)}@mail.example>"
        message["To"] = "desk@mail.example"
        message["Message-ID"] = f"<bench-{i}@mail.example>"
        if raised and rng.random() < 0.4:
            parent, subject, sender = rng.choice(raised)
            message["Subject"] = f"Re: {subject}"
            message["In-Reply-To"] = parent
            message["References"] = parent
            message.set_content(
                f"Still happening, see attempt {i}.\n\nOn Monday, Desk wrote:\n> Please restart it.\n> \n"
                "> --\n> The desk\n"
            )
        else:
            subject = f"Problem {i}: the {rng.choice(['printer', 'laptop', 'VPN', 'badge reader'])} fails"
            message["Subject"] = subject
            message.set_content(
                f"Since this morning the device fails with error {rng.randrange(1000)}.\n\nThanks,\nEmployee\n"
            )
            raised.append((message["Message-ID"], subject, sender))
        message["From"] = sender
        if i % 20 == 0:
            message.add_attachment(
                b"%PDF-1.4 " + bytes(rng.randrange(256) for _ in range(2000)),
                maintype="application",
                subtype="pdf",
                filename=f"log-{i}.pdf",
            )
        out.append(message.as_bytes())
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--pipe-n", type=int, default=500, help="messages then piped in one at a time")
    parser.add_argument(
        "--database-url", default=f"sqlite:///{Path(tempfile.gettempdir()) / 'autotrack-mail-bench.db'}"
    )
    args = parser.parse_args()

    app = seed(args.database_url)
    raw_messages = messages(args.n + args.pipe_n)
    fetched, piped = raw_messages[: args.n], raw_messages[args.n :]
    new_tickets = sum(b"In-Reply-To" not in raw for raw in raw_messages)
    app.config["AUTOTRACK_UPLOAD_DIR"] = tempfile.mkdtemp(prefix="autotrack-mail-bench-")
    with app.app_context():
        from sqlalchemy import func, select

        from autotrack.extensions import db
        from autotrack.models import Attachment, Comment, InboundMessage, Mailbox, Ticket, utcnow
        from autotrack.services.mail import intake as mail_in
        from autotrack.services.mail.mailboxes import FETCH_BATCH

        mailbox_id = db.session.scalar(select(Mailbox.id))
        statuses = {}

        def fetch_path(raws):
            """What one IMAP fetch does with its messages, FETCH_BATCH at a time."""
            for start in range(0, len(raws), FETCH_BATCH):
                mailbox = db.session.get(Mailbox, mailbox_id)
                for _, status in mail_in.ingest_many(mailbox, raws[start : start + FETCH_BATCH], now=utcnow()):
                    statuses[str(status)] = statuses.get(str(status), 0) + 1

        # CPU time beside wall time: on a shared machine the wall time says more about the neighbours.
        started, cpu = time.perf_counter(), time.process_time()
        fetch_path(fetched)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        pipe, pipe_cpu = time.perf_counter(), time.process_time()
        for raw in piped:
            _, status = mail_in.ingest(db.session.get(Mailbox, mailbox_id), raw, now=utcnow())
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        pipe, pipe_cpu = time.perf_counter() - pipe, time.process_time() - pipe_cpu

        def count(model):
            return db.session.scalar(select(func.count()).select_from(model))

        made = (count(Ticket), count(Comment), count(InboundMessage))
        # Again: every message is found stored, nothing is created twice.
        again = time.perf_counter()
        fetch_path(raw_messages[:1000])
        again = time.perf_counter() - again
        total = args.n + args.pipe_n
        expected = (new_tickets, total - new_tickets, total)  # a ticket per new message, a comment per reply
        once = made == expected == (count(Ticket), count(Comment), count(InboundMessage))

        rows = [
            ("database", "MariaDB" if args.database_url.startswith("mysql") else "SQLite"),
            (
                "messages",
                f"{total:,}, then 1,000 again (" + ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items())) + ")",
            ),
            (
                f"fetch path ({FETCH_BATCH} a fetch, {mail_in.BATCH} a transaction)",
                f"{args.n:,} in {elapsed:.1f} s = {args.n / elapsed:.0f} messages/s; "
                f"{1000 * cpu / args.n:.1f} ms CPU a message",
            ),
            (
                "pipe path (one a process)",
                f"{len(piped):,} in {pipe:.1f} s = {len(piped) / max(pipe, 1e-9):.0f} messages/s; "
                f"{1000 * pipe_cpu / max(len(piped), 1):.1f} ms CPU a message",
            ),
            (
                "made",
                f"{count(Ticket):,} tickets, {count(Comment):,} comments, {count(Attachment):,} attachments, "
                f"{count(InboundMessage):,} stored messages",
            ),
            ("the first 1,000 again (duplicates)", f"{again:.1f} s = {1000 / again:.0f} messages/s"),
            ("exactly once", "yes" if once else f"NO: expected {expected[0]:,} tickets, {expected[1]:,} comments"),
            ("peak RSS", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"),
        ]
    print_table(rows)


if __name__ == "__main__":
    main()
