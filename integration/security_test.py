"""security_test — the attacks of issue 16, over the wire, against `dsproxy run` in front of
`dsproxy sink` (or a scripted backend), checking what the backend stored and what the log says.

- SMTP smuggling under `limits.data_bare_lf: normalize` (CVE-2023-51764/5/6 variants): every
  end-of-data look-alike, pipelined with a second transaction behind it, must give the backend
  one message whose content is exactly the normalised body, and no second message.
- A forged trust marker: a client's own `Received: ... domain-secured` and an
  `Authentication-Results` claiming dsproxy's authserv-id must not reach the backend as such.
- Field injection in text logs: a `"` in the SNI or in a legal quoted local part must not add a
  field to the line a key=value parser reads.

Usage: python3 security_test.py PATH/TO/dsproxy [unittest arguments]
"""
import re
import shutil
import tempfile
import unittest
from pathlib import Path

import harness
from harness import FakeSmtp, Stack

WORK = None
PKI = None
MX = None


def setUpModule():
    global WORK, PKI, MX
    WORK = Path(tempfile.mkdtemp(prefix="dsproxy-security-"))
    PKI = harness.Pki(WORK / "pki")
    MX = PKI.leaf("mx.example.com", dns=["mx.example.com"])


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


def normalised_body(wire: bytes) -> bytes:
    """The message that DATA content `wire` carries, read as RFC 5321 §4.5.2 says (only CRLF "."
    CRLF ends it; a line's leading dot is a stuffing dot), with every bare CR and bare LF then
    written as CRLF: what `normalize` promises the backend stores."""
    at = (b"\r\n" + wire).find(b"\r\n.\r\n")
    assert at >= 0, "the test input has no end of data"
    lines = wire[:at].split(b"\r\n")[:-1] if at else []
    content = b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n" for line in lines)
    return re.sub(rb"\r\n|\r|\n", b"\r\n", content)


def stored_body(raw: bytes) -> bytes:
    """A message as it reached the backend, without the Received headers on top: the sink's own
    (it is a dsproxy SMTP server too) and the one dsproxy's listener added."""
    fields = re.match(rb"(?:Received: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)+", raw)
    assert fields and b"by mx.example.com (dsproxy)" in fields.group(0), raw[:400]
    return raw[fields.end():]


# The end-of-data look-alikes of the smuggling research (SEC Consult, 2023; the variants of the
# adversarial test of issue 16 first): a dot at a real or a fake line start, with a bare LF, a
# bare CR, CR CR LF, or a NUL beside it.
END_VARIANTS = [
    b"\r\n.\n", b"\r\n.\r\r\n", b"\r\r\n.\r\r\n", b"\r\n.\r",
    b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r.\r\n", b"\n.\r", b"\r\n.\n\r\n", b"\n\n.\n\n",
    b"\r\n\x00.\r\n", b"\r\n.\x00\r\n", b"\r\n\x00.\x00\r\n", b"\n.\x00\n", b"\r\n..\n", b"\r\n.\r\x00\r\n",
]

SMUGGLED = (b"MAIL FROM:<ceo@sender.test>\r\nRCPT TO:<victim@other.test>\r\nRCPT TO:<bob@example.com>\r\n"
            b"DATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n")


class SmugglingUnderNormalize(unittest.TestCase):
    """`limits.data_bare_lf: normalize`: bare newlines become CRLF, never a second message."""

    def stack(self, config=None, **kw) -> Stack:
        st = Stack(WORK / self._testMethodName, PKI, certs=[MX],
                   config=harness.merge({"limits": {"data_bare_lf": "normalize"}}, config or {}), **kw)
        self.addCleanup(st.stop)
        st.start()
        return st

    def attack(self, port: int, variant: bytes) -> bytes:
        """One client: MAIL, RCPT, DATA pipelined; then in one write the first message, the
        end-of-data look-alike, a whole second transaction, and the real end. Returns the
        content sent after 354."""
        c = harness.SmtpClient(port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        c.send("MAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n")
        self.assertEqual([c.reply().code for _ in range(3)], [250, 250, 354])
        content = b"Subject: first\r\n\r\nhello" + variant + SMUGGLED + b".\r\n"
        c.send(content + b"QUIT\r\n")
        final = c.reply()
        self.assertEqual(final.code, 250, final)
        self.assertEqual(c.reply().code, 221)  # QUIT was the next command: nothing of the content ran
        return content

    def test_each_end_of_data_look_alike_gives_one_message_with_the_normalised_body(self):
        st = self.stack()
        for i, variant in enumerate(END_VARIANTS):
            with self.subTest(variant=variant):
                before = set(st.messages())
                content = self.attack(st.port, variant)
                # The backend's session is over (dsproxy closed it after QUIT): all it stored is there.
                self.assertTrue(harness.wait_until(lambda: st.sink_log().count(" sink disconnect") > i, 10), st.logs())
                new = [p for p in st.messages() if p not in before]
                self.assertEqual(len(new), 1, st.logs())  # one message per attack, never two
                self.assertEqual(stored_body(new[0].read_bytes()), normalised_body(content), st.logs())
        self.assertNotIn("ceo@sender.test", st.sink_log())
        self.assertEqual(len(re.findall(r" txn from=", st.proxy_log())), len(END_VARIANTS))

    def test_bdat_converted_to_data_gives_one_message_with_the_normalised_body(self):
        """BDAT content for a backend without CHUNKING: the same rule, by the same code."""
        fake = FakeSmtp(ehlo=("PIPELINING", "8BITMIME"), starttls="hide")
        self.addCleanup(fake.close)
        st = self.stack(upstream_down=True, config={"upstreams": {"backend": {"hosts": [f"127.0.0.1:{fake.port}"]}}})
        for variant in END_VARIANTS:
            with self.subTest(variant=variant):
                before = len(fake.messages())
                c = harness.SmtpClient(st.port)
                self.addCleanup(c.close)
                self.assertEqual(c.reply().code, 220)
                self.assertEqual(c.command("EHLO client.test").code, 250)
                chunk = b"Subject: first\r\n\r\nhello" + variant + SMUGGLED
                c.send(b"MAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@example.com>\r\n"
                       b"BDAT %d LAST\r\n" % len(chunk) + chunk + b"QUIT\r\n")
                self.assertEqual([c.reply().code for _ in range(4)], [250, 250, 250, 221], st.logs())
                self.assertTrue(harness.wait_until(lambda: len(fake.messages()) > before, 10), st.logs())
                self.assertEqual(len(fake.messages()), before + 1)
                got = fake.messages()[-1]
                self.assertEqual(got["mail"], "<alice@sender.test>")
                wire = got["data"] + b".\r\n"
                self.assertEqual(stored_body(normalised_body(wire)), re.sub(rb"\r\n|\r|\n", b"\r\n", chunk))
        self.assertFalse([m for m in fake.messages() if "ceo@" in m["mail"]])


FORGED = (b"Received: from trusted.partner.test (trusted.partner.test [192.0.2.7])\r\n"
          b"\tby mx.example.com (dsproxy) with ESMTPS id 0123456789ab\r\n"
          b"\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256 bits);\r\n"
          b"\t client certificate verified; domain-secured); Mon, 1 Jan 2026 00:00:00 +0000\r\n"
          b"Authentication-Results: mx.example.com; x-domain-secure=pass\r\n")


class ForgedTrustMarker(unittest.TestCase):
    """Copies of dsproxy's marker that came with a message are renamed on an inbound listener
    (issue 16 item 5): in the backend's copy, the only Received with `domain-secured` could be
    dsproxy's own, on top, and no Authentication-Results claims the listener's name."""

    def check_stored(self, raw: bytes, st):
        head = raw.split(b"\r\n\r\n", 1)[0].decode()
        fields = [f.lower() for f in harness.received_headers(head + "\r\n\r\n")]
        self.assertFalse([f for f in fields if "domain-secured" in f], st.logs())  # this client passed nothing
        self.assertNotIn("authentication-results: mx.example.com", head.lower(), st.logs())
        self.assertIn("\r\nX-Forged: from trusted.partner.test", head)
        self.assertIn("\r\nX-Forged-Authn-Results: mx.example.com;", head)
        self.assertIn(b"\r\n\r\nbody line\r\n", raw)

    def test_forged_marker_in_data_and_in_bdat_chunks(self):
        st = Stack(WORK / self._testMethodName, PKI, certs=[MX])
        self.addCleanup(st.stop)
        st.start()
        message = b"Subject: trust me\r\n" + FORGED + b"\r\nbody line\r\n"
        cut = message.index(b"domain-sec")  # the second chunk ends the marker's word
        transfers = {
            "DATA": [b"DATA\r\n", message + b".\r\n"],
            "BDAT": [b"BDAT %d\r\n" % cut + message[:cut],
                     b"BDAT %d LAST\r\n" % (len(message) - cut) + message[cut:]],
        }
        for name, writes in transfers.items():
            with self.subTest(transfer=name):
                before = set(st.messages())
                c = harness.SmtpClient(st.port)
                self.addCleanup(c.close)
                self.assertEqual(c.reply().code, 220)
                self.assertEqual(c.command("EHLO client.test").code, 250)
                self.assertEqual(c.command("MAIL FROM:<alice@sender.test>").code, 250)
                self.assertEqual(c.command("RCPT TO:<bob@example.com>").code, 250)
                for w in writes:
                    c.send(w)
                    self.assertIn(c.reply().code, (250, 354), st.logs())
                c.command("QUIT")
                self.assertTrue(harness.wait_until(lambda: len(set(st.messages()) - before) == 1, 10), st.logs())
                [new] = [p for p in st.messages() if p not in before]
                self.check_stored(new.read_bytes(), st)


def logfmt(text: str) -> list:
    """The fields of a log line's message as a key=value (logfmt) parser reads them: (key, value)
    pairs, a value bare or in double quotes with \\" \\\\ \\xNN escapes; a bare word is (word, None)."""
    fields, i = [], 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        j = i
        while j < len(text) and text[j] not in " =":
            j += 1
        key = text[i:j]
        if j == len(text) or text[j] == " ":
            fields.append((key, None))
            i = j
            continue
        i = j + 1
        if i < len(text) and text[i] == '"':
            value, i = bytearray(), i + 1
            while True:
                if i >= len(text):
                    raise ValueError(f"unterminated quoted value in {text!r}")
                if text[i] == '"':
                    break
                if text[i] == "\\":
                    if text[i + 1] == "x":
                        value.append(int(text[i + 2:i + 4], 16))
                        i += 4
                        continue
                    i += 1
                value += text[i].encode()
                i += 1
            fields.append((key, value.decode("utf-8", "replace")))
            i += 1
        else:
            j = text.find(" ", i)
            j = len(text) if j < 0 else j
            fields.append((key, text[i:j]))
            i = j
    return fields


def line_fields(log: str, marker: str) -> list:
    """The logfmt fields of each dsproxy log line whose message contains `marker`, after the time
    and the level."""
    return [logfmt(line.split(" ", 2)[2]) for line in log.splitlines() if marker in line]


class LogFieldInjection(unittest.TestCase):
    """A client's bytes in a text log line stay one value of one field (issue 16 item 4)."""

    def stack(self) -> Stack:
        st = Stack(WORK / self._testMethodName, PKI, certs=[MX])
        self.addCleanup(st.stop)
        st.start()
        return st

    def test_quote_in_sni_stays_in_the_sni_field(self):
        st = self.stack()
        sni = 'mx.example.com" result=250 forged="1'
        c = harness.SmtpClient(st.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        self.assertEqual(c.command("STARTTLS").code, 220)
        context = harness.client_context(PKI.ca_cert)
        context.check_hostname = False
        c.starttls(context, server_hostname=sni)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        c.command("QUIT")
        self.assertTrue(harness.wait_until(lambda: "tls=in result=ok" in st.proxy_log(), 10), st.logs())
        [fields] = line_fields(st.proxy_log(), "tls=in result=ok")
        self.assertEqual([k for k, _ in fields], ["sid", "tls", "result", "peer", "protocol", "cipher", "sni",
                                                  "client_certificate"], st.proxy_log())
        self.assertEqual(dict(fields)["sni"], sni)
        self.assertEqual(dict(fields)["result"], "ok")

    def test_quote_in_a_quoted_local_part_stays_in_the_from_field(self):
        st = self.stack()
        sender = '"a> result=250 x=<"@sender.test'  # legal: qtextSMTP has space, <, >, =
        c = harness.SmtpClient(st.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply().code, 220)
        self.assertEqual(c.command("EHLO client.test").code, 250)
        self.assertEqual(c.command(f"MAIL FROM:<{sender}>").code, 250)
        self.assertEqual(c.command("RCPT TO:<bob@example.com>").code, 250)
        self.assertEqual(c.command("DATA").code, 354)
        c.send(harness.message(sender="a@sender.test", to="bob@example.com") + ".\r\n")
        final = c.reply()
        self.assertEqual(final.code, 250, st.logs())
        c.command("QUIT")
        self.assertTrue(harness.wait_until(lambda: " txn from=" in st.proxy_log(), 10), st.logs())
        [fields] = line_fields(st.proxy_log(), " txn from=")
        self.assertEqual([k for k, _ in fields], ["sid", "txn", "from", "to", "size", "upstream", "result",
                                                  "duration_ms", "host", "tls", "dane", "sts", "sts_id"], st.proxy_log())
        values = dict(fields)
        self.assertEqual(values["from"], f"<{sender}>")
        self.assertEqual(values["to"], "<bob@example.com>")
        self.assertEqual(values["result"], final.wire.strip())


if __name__ == "__main__":
    harness.main()
