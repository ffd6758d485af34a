"""An SMTP server for the drills: accepts every message (after `--delay` seconds, to keep
deliverers mid-conversation) and appends "<Message-ID>\t<recipients>" to `--log`, one line per
accepted message, so the drill can count deliveries per Message-ID. 127.0.0.1 only.

`--mode-file` names a file the drill writes to change the sink's answers while it runs:
  ok                 accept everything (also when the file is empty or missing)
  421                answer MAIL FROM with 421 (the server is closing the connection)
  451                answer every RCPT TO with 451 (try again later)
  550 <address>      refuse that one recipient for good, accept the others
`--auth USER:PASSWORD` requires SMTP AUTH with those credentials (without TLS: a drill on loopback).
"""

import argparse
import asyncio
import email
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, log_path, delay, mode_file):
        self.log_path, self.delay, self.mode_file = log_path, delay, mode_file

    def mode(self):
        try:
            return Path(self.mode_file).read_text().split() if self.mode_file else []
        except FileNotFoundError:
            return []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mode()[:1] == ["421"]:
            return "421 4.3.2 Service shutting down, try later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mode = self.mode()
        if mode[:1] == ["451"]:
            return "451 4.3.0 Temporary local problem, try later"
        if mode[:1] == ["550"] and address.lower() in mode[1:]:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's names
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content)
        with open(self.log_path, "a") as log:
            log.write(f"{message.get('Message-ID', '')}\t{','.join(envelope.rcpt_tos)}\n")
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--mode-file")
    parser.add_argument("--auth", help="USER:PASSWORD")
    args = parser.parse_args()
    options = {}
    if args.auth:
        wanted = tuple(part.encode() for part in args.auth.split(":", 1))

        def authenticate(server, session, envelope, mechanism, auth_data):
            return AuthResult(success=(auth_data.login, auth_data.password) == wanted)

        options = {"authenticator": authenticate, "auth_require_tls": False, "auth_required": True}
    controller = Controller(Sink(args.log, args.delay, args.mode_file), hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
