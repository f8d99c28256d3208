"""False flags of the file-name reading (RT26-8) on real file names: every file name under
../shared/data (beside the checkout) plus a list of ordinary camera/school names, against bench/make_text_set.py's
30-pupil register; then the recall of 10 register names written into file names three ways.
No OCR and no timing: `.venv/bin/python bench/bench_file_names.py`."""
import random
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
import make_text_set as m  # noqa: E402
from tests.test_redteam6 import TOML, ReadsNothing  # noqa: E402
from screening.config import load_config  # noqa: E402
from screening.detectors.text import TextDetector  # noqa: E402
from screening.formats.captions import name_caption  # noqa: E402
d = Path(tempfile.mkdtemp()); (d / "screening.toml").write_text(TOML)
cfg = load_config(d / "screening.toml")
people = [(p, n) for p, n, _, _ in m.register_people(random.Random(0))]
td = TextDetector(cfg, people, engine=ReadsNothing())
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
names = sorted({p.name for p in SHARED.rglob("*") if p.is_file()})
ordinary = ["IMG_2024_Hart_Road.jpg", "sports-day.jpg", "DSC_0042.JPG", "PXL_20240612_101112345.jpg",
            "Year4_trip_Whitby.jpg", "nativity-2023-final.mp4", "IMG_0001 (2).HEIC",
            "WhatsApp Image 2024-05-01 at 10.11.12.jpeg", "Screenshot 2024-03-02 at 09.00.00.png",
            "school_fair_cake_stall.jpg", "Sports Day 2024 - relay.mov", "GOPR0042.MP4", "VID_20240101_120000.mp4"]


def found(name: str) -> list:
    return [(f.target_id, f.name, f.similarity) for f in td.in_metadata(name_caption("/x/" + name))]


flagged = [(n, found(n)) for n in names + ordinary]
flagged = [x for x in flagged if x[1]]
print(f"{len(names)} shared file names + {len(ordinary)} ordinary names, "
      f"register of {len(people)}: {len(flagged)} flagged")
for x in flagged: print(" ", x)
spellings = ((" ", ".jpg"), ("-", ".jpg"), ("_", ".mp4"))
named = [f"{n.replace(' ', sep)}{ext}" for _, n in people[:10] for sep, ext in spellings]
hits = sum(bool(found(n)) for n in named)
print(f"register names in file names (3 spellings x 10): {hits}/{len(named)} read")
