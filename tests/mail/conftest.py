"""A real IMAP server for the mail tests: Debian's Dovecot, started from tests/mail/dovecot.conf
with a throwaway maildir (CI installs it; the tests fail, never skip, without it)."""
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
CONFIG = Path(__file__).with_name("dovecot.conf")
IMAP_USER = "helpdesk@acme.example"
IMAP_PASSWORD = "imap-test-password"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def dovecot():
    """{host, port, user, password} of a running Dovecot; stopped after the session."""
    if not Path(DOVECOT).exists():
        pytest.fail("Dovecot is missing: apt-get install -y dovecot-imapd (the mail tests never skip)")
    base = Path(tempfile.mkdtemp(prefix="autotrack-dovecot-"))
    if os.geteuid() == 0:  # as root, Dovecot insists on its own unprivileged users
        internal, login = "dovecot", "dovenull"
        mail_user = pwd.getpwnam("dovecot")
    else:
        internal = login = pwd.getpwuid(os.geteuid()).pw_name
        mail_user = pwd.getpwuid(os.geteuid())
    (base / "mail").mkdir()
    os.chown(base / "mail", mail_user.pw_uid, mail_user.pw_gid)
    base.chmod(0o755)
    (base / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}\n")
    port = _free_port()
    config = CONFIG.read_text()
    for name, value in {"base": base, "port": port, "internal_user": internal, "login_user": login,
                        "internal_group": grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name,
                        "mail_uid": mail_user.pw_uid, "mail_gid": mail_user.pw_gid}.items():
        config = config.replace("{%s}" % name, str(value))
    (base / "dovecot.conf").write_text(config)
    server = subprocess.Popen([DOVECOT, "-F", "-c", str(base / "dovecot.conf")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
            pytest.fail(f"Dovecot did not start: {server.stdout.read() if server.poll() is not None else ''} {log}")
        time.sleep(0.1)
    yield {"host": "127.0.0.1", "port": port, "user": IMAP_USER, "password": IMAP_PASSWORD}
    server.terminate()
    server.wait(10)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def imap(dovecot):
    """An IMAP client on the test mailbox, emptied first: `imap.append(raw)` delivers a message."""
    from imap_tools import MailBoxUnencrypted

    client = MailBoxUnencrypted(dovecot["host"], dovecot["port"]).login(dovecot["user"], dovecot["password"])
    for folder in ("INBOX", "Processed"):
        client.folder.set(folder)
        uids = client.uids()
        if uids:
            client.delete(uids)
    client.folder.set("INBOX")
    client.address, client.credentials = (dovecot["host"], dovecot["port"]), (dovecot["user"], dovecot["password"])
    yield client
    client.logout()
