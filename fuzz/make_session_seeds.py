#!/usr/bin/env python3
"""make_session_seeds.py — writes the seed corpora of the two session fuzz
targets (fuzz/corpus/server_session, fuzz/corpus/client_session) in the
record format of fuzz/fuzz_input.hpp, so that the seeds reach what the
targets are for: STARTTLS with and without pipelined commands, handshake
success and failure, a second STARTTLS, whole DATA and BDAT transactions,
relay tricks, upstream faults, STARTTLS stripping and capability tampering
on the upstream leg.

The canned command and reply tables are read from the targets' sources, so
a seed names a command by its text. Run from anywhere; it rewrites only the
files it names (regression inputs from crashes live beside them).

  python3 fuzz/make_session_seeds.py
"""
import codecs
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent


def table(source: str, name: str) -> list:
    """The string literals of `constexpr std::string_view NAME[] = {...};` in a target's source."""
    text = (HERE / source).read_text()
    body = re.search(name + r"\[\] = \{(.*?)\n\};", text, re.S).group(1)
    out = []
    for line in body.splitlines():
        pieces = re.findall(r'"((?:[^"\\]|\\.)*)"', line)
        if pieces:
            out.append("".join(codecs.decode(p, "unicode_escape") for p in pieces).encode("latin-1"))
    return out


def int_table(source: str, name: str) -> list:
    text = (HERE / source).read_text()
    return [int(v) for v in re.search(name + r"\[\] = \{([^}]*)\}", text).group(1).split(",")]


COMMANDS = table("fuzz_server_session.cpp", "kCommands")
CODES = int_table("fuzz_server_session.cpp", "kCodes")
REPLIES = table("fuzz_client_session.cpp", "kReplies")


class Server:
    """One server_session script: the setup bytes, then records (see fuzz_server_session.cpp)."""

    def __init__(self, starttls=True, normalize=False, early=False):
        setup = (0 if starttls else 1) | (2 if normalize else 0) | (8 if early else 0)
        # setup, bad_commands 1+29, recipients 1+4, size 255*16, text line 3+197, pending 16+255*16
        self.b = bytearray([setup, 29, 4, 255, 197, 255])

    def raw(self, data: bytes):
        assert len(data) < 256
        self.b += bytes([0, len(data)]) + data
        return self

    def cmd(self, text: str):
        self.b += bytes([4, COMMANDS.index(text.encode("latin-1"))])
        return self

    def up(self, code: int):
        self.b += bytes([5, CODES.index(code)])
        return self

    def upfail(self):
        self.b += bytes([6])
        return self

    def tls_ok(self, flags=0):
        self.b += bytes([7, 1, flags])
        return self

    def tls_fail(self):
        self.b += bytes([7, 0])
        return self

    def timeout(self):
        self.b += bytes([8])
        return self

    def closed(self):
        self.b += bytes([9])
        return self

    def tls_anytime(self):
        self.b += bytes([11])
        return self

    def transaction(self, rcpt="RCPT TO:<u@contoso.com>\r\n"):
        return self.cmd("MAIL FROM:<a@b.example>\r\n").cmd(rcpt).up(250).up(250)


class Client:
    """One client_session script (see fuzz_client_session.cpp)."""

    def __init__(self, policy="opportunistic", xclient=False):
        self.b = bytearray([["none", "opportunistic", "required"].index(policy) | (4 if xclient else 0)])

    def mail(self, flags=0):
        self.b += bytes([0, flags])
        return self

    def rcpt(self):
        self.b += bytes([1])
        return self

    def begin_data(self, bdat=False):
        self.b += bytes([2, 1 if bdat else 0])
        return self

    def bdat(self, n, last):
        self.b += bytes([3, n, 1 if last else 0])
        return self

    def data(self, content: bytes):
        self.b += bytes([4, len(content)]) + content
        return self

    def eod(self):
        self.b += bytes([5])
        return self

    def quit(self):
        self.b += bytes([7])
        return self

    def tls(self, ok=True):
        self.b += bytes([8, 1 if ok else 0])
        return self

    def reply(self, text: str):
        self.b += bytes([11, REPLIES.index(text.encode())])
        return self

    def raw(self, data: bytes):
        self.b += bytes([12, len(data)]) + data
        return self


EHLO_TLS = "250-up.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SIZE 1000\r\n"
EHLO_TLS_CHUNKING = "250-up.example\r\n250-STARTTLS\r\n250-CHUNKING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
EHLO_FULL = "250-up.example\r\n250-CHUNKING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250 SIZE 100000\r\n"
EHLO_BARE = "250 up.example\r\n"
GO = "220 2.0.0 Ready to start TLS\r\n"


def server_seeds() -> dict:
    s = {}
    s["starttls_then_transaction"] = (
        Server().cmd("EHLO client.example\r\n").cmd("STARTTLS\r\n").tls_ok(3).cmd("EHLO client.example\r\n")
        .transaction().cmd("DATA\r\n").up(354).cmd("hello\r\n").cmd("..dot\r\n").cmd(".\r\n").up(250)
        .cmd("QUIT\r\n"))
    s["starttls_pipelined_mail"] = (
        Server().cmd("EHLO client.example\r\n").cmd("STARTTLS\r\nMAIL FROM:<evil@attacker.example>\r\n")
        .raw(b"RCPT TO:<u@contoso.com>\r\n").tls_ok().cmd("MAIL FROM:<a@b.example>\r\n")
        .cmd("EHLO client.example\r\n").cmd("STARTTLS\r\n").cmd("RCPT TO:<u@contoso.com>\r\n"))
    s["starttls_in_transaction"] = (
        Server().cmd("EHLO client.example\r\n").cmd("MAIL FROM:<a@b.example>\r\n").cmd("STARTTLS\r\n")
        .cmd("RSET\r\n").cmd("STARTTLS\r\n").tls_fail())
    s["starttls_not_offered"] = Server(starttls=False).cmd("EHLO client.example\r\n").cmd("STARTTLS\r\n")
    s["tls_event_out_of_turn"] = (
        Server().tls_anytime().cmd("EHLO client.example\r\n").transaction().tls_anytime().cmd("DATA\r\n")
        .up(354).tls_anytime().cmd("hello\r\n").cmd(".\r\n").up(451))
    tricks = Server().cmd("EHLO client.example\r\n").cmd("MAIL FROM:<a@b.example>\r\n")
    for t in ("u%other.example@contoso.com", "other.example!u@contoso.com", "@contoso.com:u@other.example",
              '"u@other.example"@contoso.com', "u@[192.0.2.1]", "u@contoso.com.", "u@other.example"):
        tricks.cmd(f"RCPT TO:<{t}>\r\n")
    tricks.cmd("RCPT TO:<@other.example:u@contoso.com>\r\n").up(250).up(250).cmd("RCPT TO:<postmaster>\r\n").up(250)
    s["relay_tricks"] = tricks
    s["bdat_chunks"] = (
        Server().cmd("EHLO client.example\r\n").cmd("STARTTLS\r\n").tls_ok().cmd("EHLO client.example\r\n")
        .transaction().cmd("BDAT 5\r\nhello").up(354).up(250).cmd("BDAT 3 LAST\r\nabc").up(250))
    s["data_bare_lf_normalize"] = (
        Server(normalize=True).cmd("EHLO client.example\r\n").transaction().cmd("DATA\r\n").up(354)
        .cmd("bare\nlf\r\n").raw(b"x\n.\nMAIL FROM:<e@x>\r\n").cmd(".\r\n").up(250))
    s["upstream_faults"] = (
        Server().cmd("EHLO client.example\r\n").cmd("MAIL FROM:<a@b.example>\r\n").cmd("RCPT TO:<u@contoso.com>\r\n")
        .upfail().cmd("RSET\r\n").transaction().cmd("DATA\r\n").up(354).cmd("hello\r\n").cmd(".\r\n").upfail()
        .transaction().cmd("DATA\r\n").up(354).cmd("hello\r\n").timeout())
    s["client_leaves_mid_data"] = (
        Server().cmd("EHLO client.example\r\n").transaction().cmd("DATA\r\n").up(354).raw(b"Subject: x\r\n\r\nbody\r\n.")
        .closed())
    s["junk_http_tls_record"] = (
        Server().raw(b"\x00\xff\xfe junk\r\n").cmd("\x16\x03\x01\x00\x05hello").cmd("GET / HTTP/1.1\r\n"))
    s["early_talker"] = Server(early=True).cmd("EHLO client.example\r\n")
    s["utf8_sender"] = (
        Server().cmd("EHLO client.example\r\n").cmd("MAIL FROM:<j\xc3\xb6rg@b.example> SMTPUTF8\r\n")
        .cmd("RCPT TO:<U@CONTOSO.COM> NOTIFY=SUCCESS\r\n").up(250).up(250).cmd("DATA\r\n").up(552))
    return s


def client_seeds() -> dict:
    s = {}
    s["required_starttls_bdat"] = (
        Client("required").mail(8).reply("220 up.example ESMTP\r\n").reply(EHLO_TLS).reply(GO).tls(True)
        .reply(EHLO_FULL).reply("250 2.1.0 Ok\r\n").rcpt().reply("250 2.1.0 Ok\r\n").begin_data(True)
        .bdat(5, True).data(b"hello").reply("250 2.1.0 Ok\r\n").quit().reply("221 2.0.0 bye\r\n"))
    s["required_starttls_stripped"] = (
        Client("required").mail().reply("220 up.example ESMTP\r\n").reply(EHLO_BARE).rcpt())
    s["required_starttls_refused"] = (
        Client("required").mail().reply("220 up.example ESMTP\r\n").reply(EHLO_TLS)
        .reply("454 4.7.0 TLS not available\r\n"))
    s["reply_staged_after_220"] = (
        Client("required").mail().reply("220 up.example ESMTP\r\n").reply(EHLO_TLS)
        .reply("220 2.0.0 Ready to start TLS\r\n250 2.1.0 injected\r\n"))
    s["plaintext_during_handshake"] = (
        Client("opportunistic").mail().reply("220 up.example ESMTP\r\n").reply(EHLO_TLS).reply(GO)
        .raw(b"250 2.1.0 injected\r\n").tls(True))
    s["opportunistic_454_goes_plain"] = (
        Client("opportunistic").mail(2).reply("220 up.example ESMTP\r\n").reply(EHLO_TLS)
        .reply("454 4.7.0 TLS not available\r\n").reply("250 2.1.0 Ok\r\n").rcpt().reply("250 2.1.0 Ok\r\n"))
    s["capabilities_change_after_tls"] = (
        Client("opportunistic").reply("220 up.example ESMTP\r\n").reply(EHLO_TLS_CHUNKING).reply(GO).tls(True)
        .reply(EHLO_BARE).mail(0x08).reply("250 2.1.0 Ok\r\n").rcpt().reply("250 2.1.0 Ok\r\n").begin_data(True)
        .reply("354 go ahead\r\n").bdat(4, False).data(b"ab\r\n").bdat(3, True).data(b".x\n")
        .reply("250 2.1.0 Ok\r\n"))
    s["tls_handshake_fails"] = (
        Client("opportunistic").mail().reply("220 up.example ESMTP\r\n").reply(EHLO_TLS).reply(GO).tls(False))
    s["xclient"] = (
        Client("opportunistic", xclient=True).reply("220 up.example ESMTP\r\n")
        .reply("250-up.example\r\n250 XCLIENT ADDR NAME HELO PROTO\r\n").reply("220 up.example ESMTP\r\n")
        .reply(EHLO_FULL).mail(16).reply("250 2.1.0 Ok\r\n"))
    s["plain_data"] = (
        Client("none").reply("220 up.example ESMTP\r\n").reply(EHLO_TLS).mail().reply("250 2.1.0 Ok\r\n").rcpt()
        .reply("550 5.1.1 no such user\r\n").rcpt().reply("250 2.1.0 Ok\r\n").begin_data()
        .reply("354 go ahead\r\n").data(b"Subject: x\r\n\r\n..hi\r\n").eod().reply("451 4.3.0 try later\r\n")
        .quit().reply("221 2.0.0 bye\r\n"))
    return s


def main():
    for target, seeds in (("server_session", server_seeds()), ("client_session", client_seeds())):
        d = HERE / "corpus" / target
        d.mkdir(parents=True, exist_ok=True)
        for name, script in seeds.items():
            (d / name).write_bytes(bytes(script.b))
        print(f"{target}: {len(seeds)} seeds in {d}")


if __name__ == "__main__":
    main()
