"""The checks every page gets in the tests: the Nu HTML checker (valid HTML) and axe-core
(WCAG 2 A and AA; serious and critical problems fail). Both come from npm, pinned in
tests/tools/package.json (`make test` and .ci/run install them); the checker runs on
Debian's Java, never one it downloads, once per run (the `html_checker` fixture)."""
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.smtp_servers import free_port

TOOLS = Path(__file__).resolve().parent / "tools" / "node_modules"
VNU_JAR = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = TOOLS / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")


def _require(path: Path) -> Path:
    if not path.exists():
        raise AssertionError(f"{path} is missing: run `make test` (it installs tests/tools) or "
                             "`npm install --ignore-scripts --prefix tests/tools`")
    return path


class NuChecker:
    """The Nu HTML checker as a web service on loopback: one Java process for the whole run
    (starting one costs seconds; checking a page then takes milliseconds)."""

    def __init__(self):
        java = shutil.which("java")
        if java is None:
            raise AssertionError("java is missing: install default-jre-headless (.ci/run does)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/?out=json"
        # A deep stack: the checker's schema matching recurses (it overflows 512k on long pages).
        self.process = subprocess.Popen(
            [java, "-Xss16m", "-Dnu.validator.servlet.bind-address=127.0.0.1", "-cp", str(_require(VNU_JAR)),
             "nu.validator.servlet.Main", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError("the Nu HTML checker did not start")
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def errors(self, pages: dict[str, str]) -> list[str]:
        """Every error the checker finds in `pages` ({label: html}), as "label: line N: message"."""
        found = []
        for label, html in pages.items():
            request = urllib.request.Request(self.url, data=html.encode("utf-8"),
                                             headers={"Content-Type": "text/html; charset=utf-8"})
            with urllib.request.urlopen(request, timeout=60) as response:
                messages = json.load(response).get("messages", [])
            found += [f"{label}: line {m.get('lastLine')}: {m['message']}"
                      for m in messages if m.get("type") in ("error", "non-document-error")]
        return found

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def axe_script() -> str:
    """An init script for a browser context: on every portal page's load, run axe-core and
    report (url, problems) to the exposed function `portalAxeReport`, then set `portalAxeDone`."""
    return _require(AXE_JS).read_text() + """
;window.addEventListener('load', () => {
  if (window.top !== window || !location.protocol.startsWith('http')) return;
  const url = location.href;
  axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}, resultTypes: ['violations']})
    .then(result => window.portalAxeReport(url, result.violations
      .filter(v => %s.includes(v.impact))
      .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)))
    .catch(error => window.portalAxeReport(url, [`axe-core could not check the page: ${error}`]))
    .finally(() => { window.portalAxeDone = true; });
});
""" % json.dumps(list(FAILING_IMPACTS))
