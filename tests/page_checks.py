"""The checks every page gets in the tests: the Nu HTML checker (valid HTML) and axe-core
(WCAG 2 A and AA; serious and critical problems fail). Both come from npm, pinned in
tests/tools/package.json (`make test` and .ci/run install them); the checker runs on
Debian's Java, never one it downloads."""
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

TOOLS = Path(__file__).resolve().parent / "tools" / "node_modules"
VNU_JAR = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = TOOLS / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")


def _require(path: Path) -> Path:
    if not path.exists():
        raise AssertionError(f"{path} is missing: run `make test` (it installs tests/tools) or "
                             "`npm install --ignore-scripts --prefix tests/tools`")
    return path


def nu_html_errors(pages: dict[str, str]) -> list[str]:
    """Every error the Nu HTML checker finds in `pages` ({label: html}), as "label: line N: message".
    One Java process checks them all."""
    java = shutil.which("java")
    if java is None:
        raise AssertionError("java is missing: install default-jre-headless (.ci/run does)")
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for n, (label, html) in enumerate(pages.items()):
            path = Path(folder) / f"page{n}.html"
            path.write_text(html, encoding="utf-8")
            files[path.as_uri().replace("file:///", "file:/")] = label
        result = subprocess.run([java, "-jar", str(_require(VNU_JAR)), "--format", "json", "--stdout",
                                 *(str(Path(folder) / f"page{n}.html") for n in range(len(pages)))],
                                capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stdout or "{}").get("messages", [])
    return [f"{files.get(m.get('url'), m.get('url'))}: line {m.get('lastLine')}: {m['message']}"
            for m in messages if m.get("type") in ("error", "non-document-error")]


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
