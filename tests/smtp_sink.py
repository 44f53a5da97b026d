#!/usr/bin/env python3
"""A real SMTP server for the reminder tests (tests/it/reminders.rs), on aiosmtpd.

    python3 tests/smtp_sink.py HOST PORT DIR [plain|starttls|tls CERT KEY]

With "starttls" the server offers STARTTLS and refuses mail before it; with "tls" it
speaks TLS from the first byte (port 465 style). CERT and KEY are PEM files.

Every message it accepts is written to DIR as one JSON file (envelope, headers and the
decoded text parts) BEFORE the server answers 250, so a client that was told "sent" finds
the file. The tests kill and restart it to play a mail server that goes down.
"""

import email
import email.policy
import json
import os
import signal
import ssl
import sys
import threading
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = []
        for part in msg.walk():
            if part.get_content_maintype() == "multipart":
                continue
            parts.append(
                {
                    "content_type": part.get_content_type(),
                    "charset": part.get_content_charset(),
                    "language": part.get("Content-Language"),
                    "text": part.get_content(),
                }
            )
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "message_id": msg.get("Message-ID"),
            "from": str(msg.get("From")),
            "to": str(msg.get("To")),
            "subject": str(msg.get("Subject")),
            "content_type": msg.get_content_type(),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "parts": parts,
        }
        name = uuid.uuid4().hex
        tmp = os.path.join(self.out, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, os.path.join(self.out, name + ".json"))
        return "250 OK"


def main():
    host, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    mode = sys.argv[4] if len(sys.argv) > 4 else "plain"
    os.makedirs(out, exist_ok=True)
    kwargs = {}
    if mode in ("starttls", "tls"):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(sys.argv[5], sys.argv[6])
        if mode == "starttls":
            kwargs = {"tls_context": ctx, "require_starttls": True}
        else:
            kwargs = {"ssl_context": ctx}
    elif mode != "plain":
        sys.exit(f"unknown mode {mode}: plain, starttls or tls")
    controller = Controller(Sink(out), hostname=host, port=port, **kwargs)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
