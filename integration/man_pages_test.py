"""dsproxy(8), dsproxy.yaml(5) and the bash completion (issue 21), as the build made them.

    python3 man_pages_test.py BUILD/proxy/dsproxy

The pages are generated (contrib/man/gen_docs.py) into BUILD/contrib/man/:
  - both render without a warning: groff -ww, and man -l at 80 columns;
  - every key the loader accepts (`dsproxy check-config --keys`, read from the
    loader's own tables) is documented in dsproxy.yaml(5), in the section of
    its top-level key (policy keys of an upstream's `tls` in `policies`);
  - every option of every subcommand, as its --help lists it, is in
    dsproxy(8) under that subcommand's heading;
  - the completion, sourced by bash with Debian's bash-completion, completes
    the subcommands, the cert subcommands and a subcommand's options.
"""
import os
import re
import shutil
import subprocess
import unittest
from pathlib import Path

import harness


def run(*args, env=None):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60, env=env,
                          stdin=subprocess.DEVNULL)


def plain(roff: str) -> str:
    """Page source without font escapes and with \\- as -."""
    return re.sub(r"\\f[BIRP]", "", roff).replace("\\-", "-").replace("\\:", "").replace("\\&", "")


def sections(roff: str, raw=False) -> dict:
    """`.SS` subsection name -> its source (plain, or as it is), up to the next .SS or .SH."""
    out, name, body = {}, None, []
    text = (lambda t: t) if raw else plain
    for line in roff.splitlines():
        if line.startswith((".SS ", ".SH ")):
            if name is not None:
                out[name] = text("\n".join(body))
            name = plain(line[4:]).strip() if line.startswith(".SS ") else None
            body = []
        elif name is not None:
            body.append(line)
    if name is not None:
        out[name] = text("\n".join(body))
    return out


def terms(roff: str) -> set:
    """What a page sets in bold (keys are: a table's first column, `key` in prose)."""
    return {plain(t).strip() for t in re.findall(r"\\fB(.*?)\\fR", roff)}


class ManPages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = Path(harness.DSPROXY).parent.parent / "contrib" / "man"
        cls.program = cls.dir / "dsproxy.8"
        cls.config = cls.dir / "dsproxy.yaml.5"
        cls.completion = cls.dir / "dsproxy.bash-completion"

    def test_render_without_warnings(self):
        env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", LC_ALL="C.UTF-8")
        for page in (self.program, self.config):
            r = run("groff", "-ww", "-man", "-z", page)
            self.assertEqual((r.returncode, r.stderr), (0, ""), page)
            r = run("man", "--warnings", "-l", page, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, "", page)
            self.assertIn("NAME", r.stdout)

    def test_every_configuration_key_is_documented(self):
        keys = run(harness.DSPROXY, "check-config", "--keys").stdout.split()
        self.assertIn("logging.target", keys)
        self.assertIn("listeners.<name>.fqdn", keys)
        roff = self.config.read_text()
        by_section = {name: terms(text) for name, text in sections(roff, raw=True).items()}
        everywhere = terms(roff)
        missing = []
        for key in keys:
            parts = key.split(".")
            leaf = parts[-1]
            if len(parts) == 1:  # a section: in the table of top-level sections
                documented = leaf in everywhere
            else:
                # Documented as itself, or as its path below the section (`client.command`).
                allowed = [parts[0]] + (["policies"] if "tls" in parts[1:-1] else [])
                found = set().union(*(by_section.get(name, set()) for name in allowed))
                # A mapping of mappings (`timeouts.client`) through its keys (`client.command`).
                documented = any(t == leaf or t.endswith("." + leaf) or t.startswith(leaf + ".") for t in found)
            if not documented:
                missing.append(key)
        self.assertEqual(missing, [], "keys the loader accepts but dsproxy.yaml(5) does not document")

    def helps(self, path=()):
        text = run(harness.DSPROXY, *path, "--help").stdout
        yield path, text
        block = text.split("Subcommands:", 1)
        if len(block) == 2:
            for line in block[1].splitlines():
                m = re.match(r"^  (\S+)", line)
                if m:
                    yield from self.helps((*path, m.group(1)))

    def test_every_option_of_every_subcommand_is_in_dsproxy_8(self):
        by_section = sections(self.program.read_text())
        count = 0
        for path, text in self.helps():
            title = " ".join(("dsproxy", *path))
            self.assertIn(title, by_section, f"no section for {title}")
            for flag in sorted(set(re.findall(r"(?m)^  (?:-\w,)?(--?[\w-]+)", text))):
                self.assertRegex(by_section[title], r"(?<![\w-])" + re.escape(flag) + r"(?![\w-])", f"{title} {flag}")
                count += 1
        self.assertGreater(count, 40)

    def complete(self, *words):
        """COMPREPLY of the completion for `dsproxy WORDS...` (the last word is being completed)."""
        script = f"""
source /usr/share/bash-completion/bash_completion
source {self.completion}
complete -p dsproxy >/dev/null || exit 3
COMP_WORDS=(dsproxy {' '.join(repr(w) for w in words)})
COMP_CWORD={len(words)}
_dsproxy
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
        r = run("bash", "-c", script)
        self.assertEqual(r.returncode, 0, r.stderr)
        return set(r.stdout.split())

    def test_bash_completion(self):
        self.assertTrue(os.path.exists("/usr/share/bash-completion/bash_completion"),
                        "bash-completion is not installed (scripts/install-deps.sh test installs it)")
        self.assertEqual(self.complete(""), {"run", "sink", "match", "cert", "check-config", "resolve", "probe",
                                             "tls-report", "-h", "--help", "--version"})
        self.assertEqual(self.complete("ch"), {"check-config"})
        self.assertEqual(self.complete("cert", ""), {"request", "selfsigned", "import", "export", "list", "show",
                                                     "-h", "--help"})
        self.assertEqual(self.complete("tls-report", ""), {"show", "send", "-h", "--help"})
        self.assertIn("--keys", self.complete("check-config", "--k"))
        self.assertEqual(self.complete("cert", "list", "--st"), {"--store"})
        self.assertIn("--allow-root", self.complete("run", "-c", "x.yaml", "--"))


if __name__ == "__main__":
    harness.main()
