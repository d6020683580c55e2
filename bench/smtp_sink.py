"""A local SMTP server for benchmarks, in its own process so it does not share our GIL.

    python -m bench.smtp_sink PORT RECIPIENTS_FILE [--delay SECONDS]

Accepts everything; appends "<time accepted> <recipient>" to RECIPIENTS_FILE (so a
benchmark can check that every message arrived exactly once, and when), and
"<time> #connection" for each connection's EHLO; `--delay` holds
each reply (EHLO, MAIL, RCPT, end of DATA) for that long, like a relay across a network.
"""
import argparse
import asyncio
import signal
import threading
import time

from aiosmtpd.controller import Controller

CONNECTION = "#connection"  # the line a new connection's EHLO writes, beside the recipients


class Sink:
    def __init__(self, out, delay: float):
        self.out, self.delay = out, delay

    async def _wait(self):
        if self.delay:
            await asyncio.sleep(self.delay)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await self._wait()
        session.host_name = hostname
        self.out.write(f"{time.time():.6f} {CONNECTION}\n")  # once per connection: counts them
        self.out.flush()
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await self._wait()
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._wait()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await self._wait()
        now = time.time()
        self.out.write("".join(f"{now:.6f} {r}\n" for r in envelope.rcpt_tos))
        self.out.flush()
        return "250 Accepted"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("recipients_file")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    with open(args.recipients_file, "a") as out:
        controller = Controller(Sink(out, args.delay), hostname="127.0.0.1", port=args.port)
        controller.start()
        print("ready", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
        controller.stop()


if __name__ == "__main__":
    main()
