"""An SMTP server for the drills: accepts every message (after `--delay` seconds, to keep
deliverers mid-conversation) and appends "<Message-ID>\t<recipients>" to `--log`, one line per
accepted message, so the drill can count deliveries per Message-ID. 127.0.0.1 only."""
import argparse
import asyncio
import email
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, log_path, delay):
        self.log_path, self.delay = log_path, delay

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's name)
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
    args = parser.parse_args()
    controller = Controller(Sink(args.log, args.delay), hostname="127.0.0.1", port=args.port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
