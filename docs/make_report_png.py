"""Make the README's demo excerpt and docs/report.png from the demo itself.

    .venv/bin/python docs/make_report_png.py

Builds the demo trust (samples/make_samples.py) in a temporary folder, runs the real
`screening scan batch` on it exactly as `make demo` does (every real check, one process so
the lines come in file order), writes its output into the README between the
`demo-output` markers and screenshots its HTML report (headless Chromium) as
docs/report.png. tests/test_readme_demo.py fails when the README drifts from the demo.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
BEGIN = "<!-- demo-output: begin (written by docs/make_report_png.py from the demo; do not edit) -->"
END = "<!-- demo-output: end -->"
SCAN = ["scan", "batch", "--workers", "1", "--jsonl", "out/report.jsonl", "--csv", "out/report.csv",
        "--html", "out/report.html"]


def demo_output(root: Path) -> tuple[str, Path]:
    """Make the demo trust under root, screen its batch; (what the scan printed, the HTML report)."""
    sys.path.insert(0, str(REPO / "samples"))
    sys.path.insert(0, str(REPO))
    import make_samples

    samples = make_samples.make(root)
    done = subprocess.run([sys.executable, "-m", "screening", *SCAN], cwd=samples, capture_output=True,
                          text=True, timeout=900)
    if done.returncode not in (0, 1, 2) or "Traceback" in done.stderr:
        raise RuntimeError(f"the demo scan failed ({done.returncode}):\n{done.stderr}")
    return done.stdout, samples / "out" / "report.html"


def readme_excerpt(text: str | None = None) -> str:
    """The demo output the README shows (between the markers), without the code fence."""
    text = README.read_text(encoding="utf-8") if text is None else text
    m = re.search(re.escape(BEGIN) + r"\n```\n(.*?)```\n" + re.escape(END), text, re.S)
    if m is None:
        raise ValueError(f"README.md has no demo-output block ({BEGIN} ... {END})")
    return m.group(1)


def write_readme(output: str) -> None:
    text = README.read_text(encoding="utf-8")
    readme_excerpt(text)  # the markers must be there
    block = f"{BEGIN}\n```\n{output}```\n{END}"
    README.write_text(re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S),
                      encoding="utf-8")


def screenshot(report: Path, png: Path, height: int = 1500) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
                        f"--screenshot={png}", f"--window-size=1280,{height}",
                        "--virtual-time-budget=5000", report.resolve().as_uri()],
                       check=True, capture_output=True)


def main() -> None:
    png = REPO / "docs" / "report.png"
    with tempfile.TemporaryDirectory() as tmp:
        output, report = demo_output(Path(tmp))
        write_readme(output)
        screenshot(report, png)
    print(f"wrote the demo output into {README.name} and {png.relative_to(REPO)}")


if __name__ == "__main__":
    main()
