"""Does `screening serve` stay responsive while a 200-photo batch screens?

The demo trust (samples/make_samples.py) is served by uvicorn in this process, as `screening
serve` runs it; a client signs in, uploads 200 generated photos (drawn playing fields, the two
public-domain portraits, some with GPS), then polls the batch's progress once a second (as the
page's script does) while another client loads the home, batch and audit pages in turn, every
0.25 s, until the batch is done. Reported:

- the largest gap between two progress answers the client got (target: at most 2 s), and the
  largest gap between two changes of the count of files done (bound by the slowest photo);
- page and progress-poll latency percentiles while it screens, beside the same requests on the
  same server and batch once it is done (the peer, same run).

    .venv/bin/python bench/bench_serve.py --quick   # 200 photos of 640 px (~2-3 min on 2 cores)
    .venv/bin/python bench/bench_serve.py           # 200 photos of 1600 px
"""

from __future__ import annotations

import argparse
import io
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PASSWORD = "benchmark password"
POLL_S = 1.0  # progress.js polls once a second


def photos(n: int, side: int) -> list[tuple[str, bytes]]:
    from PIL import Image

    from samples.make_samples import PUBLIC, gps_exif, landscape

    people = [Image.open(PUBLIC / name).convert("RGB") for name in ("astronaut.png", "camera.png")]
    out = []
    for i in range(n):
        img = people[i % 2] if i % 5 == 0 else landscape(100 + i, (side, side * 2 // 3))
        img = img.copy()
        img.thumbnail((side, side))
        buf = io.BytesIO()
        extra = {"exif": gps_exif(53.8 + i * 1e-4, -1.55)} if i % 7 == 0 else {}
        img.save(buf, "JPEG", quality=88, **extra)
        out.append((f"photo-{i:03d}.jpg", buf.getvalue()))
    return out


def serve(root: Path, workers: int):
    import uvicorn

    from samples.make_samples import make
    from screening.store.accounts import Accounts
    from screening.trust import open_trust
    from screening.web import passwords
    from screening.web.app import create_app
    from screening.web.security import Settings

    config = make(root) / "screening.toml"
    Accounts(open_trust(config).config.state).add("bench", "reviewer", passwords.hash_password(PASSWORD))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(config, Settings(port=port, workers=workers))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def sign_in(client) -> str:
    page = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf": token, "name": "bench", "password": PASSWORD})
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)


def timed(client, key: str, path: str, into: dict) -> None:
    t = time.perf_counter()
    r = client.get(path)
    r.raise_for_status()
    into.setdefault(key, []).append(time.perf_counter() - t)


def idle_latencies(client, batch_url: str, rounds: int) -> dict:
    lat: dict = {}
    for _ in range(rounds):
        for key, path in (("home page", "/"), ("batch page", batch_url), ("progress poll", batch_url + "/progress"),
                          ("audit page", "/audit")):
            timed(client, key, path, lat)
    return lat


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def main() -> int:
    import httpx

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="640 px photos instead of 1600 px")
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    side = 640 if args.quick else 1600
    with tempfile.TemporaryDirectory() as tmp:
        batch = photos(args.photos, side)
        server, base = serve(Path(tmp), args.workers)
        with httpx.Client(base_url=base, timeout=120) as client:
            csrf = sign_in(client)
            # one other photo first: the models are loaded once, as on a server that has been up
            warm = client.post("/batches", data={"csrf": csrf}, files=[("files", photos(1, side + 1)[0])])
            warm_url = warm.headers["location"]
            while client.get(warm_url + "/progress").json()["state"] != "done":
                time.sleep(0.2)

            t0 = time.perf_counter()
            r = client.post("/batches", data={"csrf": csrf}, files=[("files", f) for f in batch])
            upload_s = time.perf_counter() - t0
            url = r.headers["location"]
            busy: dict = {}
            changes, answers, state = [], [], {"now": "queued"}
            started = time.perf_counter()

            def poll() -> None:  # what progress.js does, on its own: one poll a second
                last_done = 0
                with httpx.Client(base_url=base, timeout=120, cookies=client.cookies) as poller:
                    while state["now"] not in ("done", "failed"):
                        t = time.perf_counter()
                        p = poller.get(url + "/progress").json()
                        now = time.perf_counter()
                        busy.setdefault("progress poll", []).append(now - t)
                        answers.append(now)
                        state["now"] = p["state"]
                        if p["done"] != last_done:
                            changes.append(now)
                            last_done = p["done"]
                        time.sleep(max(0.0, POLL_S - (time.perf_counter() - t)))

            poller = threading.Thread(target=poll)
            poller.start()
            pages = [("home page", "/"), ("batch page", url), ("audit page", "/audit")]
            i = 0
            while poller.is_alive():  # a person clicking around meanwhile
                timed(client, *pages[i % 3], busy)
                i += 1
                time.sleep(0.25)
            poller.join()
            total_s = time.perf_counter() - started
            idle = idle_latencies(client, url, 20)  # the peer: the same requests, same batch, nothing screening
        server.should_exit = True
    gaps = [b - a for a, b in zip(changes, changes[1:])]
    polls = [b - a for a, b in zip(answers, answers[1:])]
    print(f"bench_serve: {args.photos} photos of {side} px, {args.workers} worker process(es); "
          f"upload {upload_s:.1f} s, screened in {total_s:.1f} s ({args.photos / total_s:.2f} photos/s), "
          f"state {state['now']}")
    print(f"time to the first file done: {changes[0] - started:.1f} s (enrolment, the pool starting, its models loading)")
    print(f"progress answers (one poll a second, as progress.js): {len(answers)}; largest gap between two "
          f"answers: {max(polls):.2f} s (target <= 2 s)")
    print(f"files-done count changes: {len(changes)}; largest gap between changes after the first: "
          f"{max(gaps) if gaps else 0:.2f} s (median {statistics.median(gaps) if gaps else 0:.2f} s: "
          "bound by how long one photo takes to screen)")
    print()
    print("| request | n busy | p50 / p95 / max ms while screening | p50 / p95 / max ms idle (peer, same run) |")
    print("|---|---|---|---|")
    for key in sorted(busy):
        b, d = busy[key], idle.get(key, [])
        idle_text = f"{pct(d, .5):.0f} / {pct(d, .95):.0f} / {max(d) * 1000:.0f}" if d else "-"
        print(f"| {key} | {len(b)} | {pct(b, .5):.0f} / {pct(b, .95):.0f} / {max(b) * 1000:.0f} | {idle_text} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
