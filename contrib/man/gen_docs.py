#!/usr/bin/env python3
"""gen_docs.py — dsproxy(8), dsproxy.yaml(5) and the bash completion, generated
at build time from their one source each, so they cannot drift:

  dsproxy(8)         the binary's own --help of every subcommand (CLI11 is the
                     source of the options), with the prose sections below
  dsproxy.yaml(5)    docs/configuration.md, converted (headings, paragraphs,
                     lists, tables, code blocks)
  bash completion    the same --help: subcommands and options per subcommand

    gen_docs.py --dsproxy BUILD/proxy/dsproxy --config-doc docs/configuration.md \
                --version 0.1.0 --out DIR

integration/man_pages_test.py checks the result: every key the loader accepts
(`dsproxy check-config --keys`) is in dsproxy.yaml(5), every option of every
subcommand is in dsproxy(8), groff -ww and man -l render both without a
warning, and the completion completes.
"""
import argparse
import re
import subprocess
from pathlib import Path

DATE = "2026-12-02"

# --- roff ---------------------------------------------------------------------


# Non-ASCII characters groff has a glyph for on every terminal device: Latin-1,
# dashes and quotes, arrows, comparison signs. Others (a full-width letter in
# an example of a bad address) are written as U+XXXX.
GLYPHS = [(0xA0, 0xFF), (0x2010, 0x2027), (0x2190, 0x2199), (0x2260, 0x2265)]


def escape(text: str) -> str:
    """Plain text as roff: backslashes, non-ASCII as \\[uXXXX], nothing taken as a request."""
    out = []
    for ch in text.replace("\\", "\\e"):
        code = ord(ch)
        if code < 128:
            out.append(ch)
        elif any(lo <= code <= hi for lo, hi in GLYPHS):
            out.append("\\[u%04X]" % code)
        else:
            out.append("U+%04X" % code)
    return "".join(out)


def line_safe(text: str) -> str:
    """A text line must not start with a control character (. or ')."""
    return "\\&" + text if text[:1] in (".", "'") else text


def inline(md: str) -> str:
    """Markdown inline markup as roff: `code` and **bold** bold, links as their text."""
    md = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", md)
    parts = re.split(r"(`[^`]*`|\*\*[^*]+\*\*)", md)
    out = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) >= 2:
            # \: after , and / lets a long value (a JSON line, a path) break there.
            code = escape(p[1:-1]).replace("-", "\\-").replace(",", ",\\:").replace("/", "/\\:")
            out.append("\\fB" + code + "\\fR")
        elif p.startswith("**") and p.endswith("**"):
            out.append("\\fB" + escape(p[2:-2]) + "\\fR")
        else:
            out.append(escape(p))
    return "".join(out)


def header(name: str, section: int, version: str, title: str) -> list:
    # Ragged right: long values (paths, JSON) never leave a line that cannot be justified.
    return [f'.TH {name.upper()} {section} {DATE} "dsproxy {version}" "{title}"', ".ad l"]


# --- dsproxy.yaml(5) from docs/configuration.md -------------------------------


def table_rows(lines):
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append(cells)
    return rows[0], [r for r in rows[2:]]


def markdown_to_man(md: str) -> list:
    out = []
    lines = md.splitlines()
    i = 0
    paragraph = []

    def flush():
        if paragraph:
            out.append(".PP")
            out.extend(line_safe(inline(p)) for p in paragraph)
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            out += [".PP", ".in +4n", ".EX"]
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line_safe(escape(lines[i])) if lines[i] else "")
                i += 1
            out += [".EE", ".in"]
        elif line.startswith("# "):
            flush()
        elif line.startswith("## "):
            flush()
            out.append(".SH " + inline(line[3:]).upper().replace("\\FB", "\\fB").replace("\\FR", "\\fR"))
        elif line.startswith("### "):
            flush()
            out.append(".SS " + re.sub(r"\\f[BR]", "", inline(line[4:])))
        elif line.startswith("|"):
            flush()
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            head, rows = table_rows(block)
            for row in rows:
                out.append(".TP")
                out.append(line_safe(inline(row[0])))
                details = []
                for h, cell in zip(head[1:], row[1:]):
                    if cell:
                        details.append((inline(h) + ": " if h else "") + inline(cell))
                out.append(line_safe("; ".join(details)) if details else "\\&")
            continue
        elif re.match(r"^\s*[-*] ", line):
            flush()
            item = [re.sub(r"^\s*[-*] ", "", line)]
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip() and not re.match(r"^\s*[-*] ", lines[i]):
                item.append(lines[i].strip())
                i += 1
            out += [".IP \\(bu 2"] + [line_safe(inline(t)) for t in item]
            continue
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
        i += 1
    flush()
    return out


def config_page(doc: Path, version: str) -> str:
    body = markdown_to_man(doc.read_text())
    out = header("dsproxy.yaml", 5, version, "File formats")
    out += [".SH NAME", "dsproxy.yaml \\- configuration of dsproxy, the SMTP STARTTLS proxy",
            ".SH SYNOPSIS", "\\fI/etc/dsproxy/dsproxy.yaml\\fR, \\fI/etc/dsproxy/domains.d/*.yaml\\fR",
            ".SH DESCRIPTION",
            ".PP",
            "This page is generated from the reference \\fIconfiguration.md\\fR in",
            "\\fI/usr/share/doc/dsproxy/\\fR. \\fBdsproxy check\\-config \\-\\-keys\\fR lists every key",
            "the loader accepts."]
    out += body
    out += [".SH SEE ALSO", "\\fBdsproxy\\fR(8)"]
    return "\n".join(out) + "\n"


# --- dsproxy(8) from --help ---------------------------------------------------


class Command:
    def __init__(self, path, description, usage, options, positionals, subcommands):
        self.path, self.description, self.usage = path, description, usage
        self.options, self.positionals, self.subcommands = options, positionals, subcommands


def parse_help(text: str):
    """CLI11's help: description, Usage:, then Options:/Positionals:/Subcommands: blocks
    of `  NAME  description` entries."""
    lines = text.splitlines()
    description, usage = [], ""
    blocks = {"Options": [], "Positionals": [], "Subcommands": []}
    current = None
    for line in lines:
        if line.startswith("Usage: "):
            usage = line[len("Usage: "):]
            current = "after-usage"
            continue
        m = re.match(r"^(Options|Positionals|Subcommands):$", line)
        if m:
            current = m.group(1)
            continue
        if current is None:
            if line.strip():
                description.append(line.strip())
        elif current in blocks and line.startswith("  "):
            m = re.match(r"^  (\S.*?)(?:\s{2,}(.*))?$", line)
            if line.startswith("    ") and blocks[current]:
                blocks[current][-1][1] += " " + line.strip()
            elif m:
                blocks[current].append([m.group(1).strip(), (m.group(2) or "").strip()])
    return " ".join(description), usage, blocks


def read_commands(dsproxy: str):
    def helptext(path):
        return subprocess.run([dsproxy, *path, "--help"], capture_output=True, text=True, check=True,
                              timeout=30).stdout

    commands = []

    def walk(path):
        description, usage, blocks = parse_help(helptext(path))
        usage = re.sub(r"^\S*dsproxy", "dsproxy", usage)
        cmd = Command(path, description, usage, blocks["Options"], blocks["Positionals"],
                      [name for name, _ in blocks["Subcommands"]])
        commands.append(cmd)
        for sub in cmd.subcommands:
            walk(path + [sub])

    walk([])
    return commands


PROSE = {
    "description": [
        "dsproxy is an SMTP STARTTLS proxy for mail administrators. It sits in front of a mail",
        "server (inbound) and between a mail server and the internet (outbound), terminates and",
        "originates STARTTLS, chooses its own certificate by FQDN, checks every peer certificate",
        "with Microsoft Exchange's Domain Security name rules, applies a per-domain TLS policy",
        "written in YAML (\\fBdsproxy.yaml\\fR(5)), and relays mail without ever acknowledging a",
        "message that the next hop has not accepted. It has no queue.",
    ],
    "signals": [
        (".TP", "\\fBSIGTERM\\fR", "Stop accepting, let sessions finish for \\fBtimeouts.shutdown_drain\\fR, then 421 and exit 0."),
        (".TP", "\\fBSIGINT\\fR", "The same without a grace period; a second SIGINT stops at once."),
        (".TP", "\\fBSIGHUP\\fR", "Reload the configuration and the certificates. A configuration with errors is refused and the running one stays; settings read at start only (listen addresses, \\fBprocess\\fR, \\fBlogging\\fR, \\fBmetrics\\fR) are named in the log as needing a restart."),
    ],
    "files": [
        (".TP", "\\fI/etc/dsproxy/dsproxy.yaml\\fR", "The main configuration (\\fBdsproxy.yaml\\fR(5))."),
        (".TP", "\\fI/etc/dsproxy/domains.d/\\fR", "Included files: per-domain policies and accepted domains."),
        (".TP", "\\fI/etc/dsproxy/certs/\\fR", "The certificate store (keys mode 0600, owned by \\fBdsproxy\\fR)."),
        (".TP", "\\fI/var/lib/dsproxy/\\fR", "The state directory of the \\fBdsproxy\\fR user."),
        (".TP", "\\fI/lib/systemd/system/dsproxy.service\\fR", "The systemd unit (Type=notify; reload sends SIGHUP)."),
    ],
    "exit": [
        (".TP", "0", "Done, or a positive answer (\\fBmatch\\fR: a match)."),
        (".TP", "1", "A negative answer, or the configuration or a listener could not be set up."),
        (".TP", "2", "A usage or input error."),
    ],
}


def option_entry(name, description):
    name = escape(name).replace("-", "\\-")
    # `-c,--config TEXT`: the flags bold, the value's kind italic.
    m = re.match(r"^(\S+?)(?: (.*))?$", name)
    flags, arg = m.group(1), m.group(2)
    text = "\\fB" + flags.replace(",", "\\fR, \\fB") + "\\fR" + (" \\fI" + arg + "\\fR" if arg else "")
    return [".TP", text, line_safe(escape(description)) if description else "\\&"]


def program_page(commands, version: str) -> str:
    top = commands[0]
    out = header("dsproxy", 8, version, "System Administration")
    out += [".SH NAME", "dsproxy \\- " + escape(top.description.split(": ", 1)[-1]),
            ".SH SYNOPSIS"]
    for cmd in commands[1:]:
        if not cmd.subcommands:
            out += [".PP", "\\fBdsproxy " + escape(" ".join(cmd.path)).replace("-", "\\-") + "\\fR [\\fIOPTIONS\\fR]"]
    out += [".SH DESCRIPTION", ".PP"] + PROSE["description"]
    out += [".SH COMMANDS", ".PP",
            "Every subcommand's options, as \\fBdsproxy\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR prints them."]
    for cmd in commands:
        title = "dsproxy " + " ".join(cmd.path) if cmd.path else "dsproxy"
        out.append(".SS " + escape(title).replace("-", "\\-"))
        out += [".PP", line_safe(escape(cmd.description))]
        out += [".PP", "Usage: \\fB" + escape(cmd.usage).replace("-", "\\-") + "\\fR"]
        if cmd.subcommands:
            out += [".PP", "Subcommands: " + ", ".join("\\fB" + escape(s).replace("-", "\\-") + "\\fR" for s in cmd.subcommands) + "."]
        for name, desc in cmd.positionals:
            out += option_entry(name, desc)
        for name, desc in cmd.options:
            out += option_entry(name, desc)
    for section, key in (("SIGNALS", "signals"), ("FILES", "files"), ("EXIT STATUS", "exit")):
        out.append(".SH " + section)
        for request, tag, text in PROSE[key]:
            out += [request, tag, text]
    out += [".SH SEE ALSO", "\\fBdsproxy.yaml\\fR(5), \\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1),",
            "\\fI/usr/share/doc/dsproxy/README.md.gz\\fR"]
    return "\n".join(out) + "\n"


# --- bash completion ----------------------------------------------------------


def completion(commands) -> str:
    cases = []
    for cmd in commands:
        words = list(cmd.subcommands)
        for name, _ in cmd.options:
            words += [w for w in re.split(r"[ ,]", name) if w.startswith("-")]
        key = " ".join(cmd.path)
        cases.append(f'        "{key}") words="{" ".join(words)}" ;;')
    return """# bash completion for dsproxy — generated by contrib/man/gen_docs.py from
# the binary's --help: subcommands, and the options of each; file names for
# the values of options that take one.
_dsproxy() {
    local cur prev path="" i words
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    # The subcommand path so far: the words before the cursor that are not options.
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -*) ;;
            *) if _dsproxy_words "${path:+$path }${COMP_WORDS[i]}" >/dev/null; then path="${path:+$path }${COMP_WORDS[i]}"; fi ;;
        esac
    done
    case $prev in
        -c|--config|--maildir|--cert|--key|--out|--key-out|--store|--from|--ca-file|--password-file)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    words=$(_dsproxy_words "$path") || return
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_dsproxy_words() {
    local words
    case $1 in
""" + "\n".join(cases) + """
        *) return 1 ;;
    esac
    echo "$words"
}
complete -F _dsproxy dsproxy
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsproxy", required=True)
    ap.add_argument("--config-doc", required=True, type=Path)
    ap.add_argument("--version", required=True)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    commands = read_commands(args.dsproxy)
    (args.out / "dsproxy.8").write_text(program_page(commands, args.version))
    (args.out / "dsproxy.yaml.5").write_text(config_page(args.config_doc, args.version))
    (args.out / "dsproxy.bash-completion").write_text(completion(commands))


if __name__ == "__main__":
    main()
