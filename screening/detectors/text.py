"""Names in the picture: academy names and aliases, and register people's full names, read by OCR.

Signs, banners, badges, certificates, kit. The detector reports what it read and what it
matched, with raw scores, and the lines it could not read; decide() alone says what counts.
It is given the names to look for (the config's academies and the register's people, never
their consents), and refuses to run without the register's names rather than look for half.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

from screening.config import Config
from screening.formats import captions, coordtext, credits, video_metadata
from screening.model import Box, TextFinding
from screening.vision import names as nm
from screening.vision.name_edges import EdgeMatcher, cut_sides, edges_reached
from screening.vision.ocr import REVERSED_ORDER, OcrEngine, TextLine

# Matches below this similarity are not worth reporting; decide() applies [text] min_similarity.
REPORT_FLOOR = 0.7
# Lines read with less confidence than this, and matching nothing, are reported as unreadable.
UNREADABLE_BELOW = 0.8
# A sign's lines are joined into runs of at most this many.
MAX_LINES = 3
# A credit is cut around its staff names at most this many times over (names inside names: RT31-24).
MAX_STAFF_SPLITS = 4


class TextDetector:
    """Reads every frame and reports the academy and register names found in it."""

    def __init__(self, config: Config, people: Sequence[tuple[str, str]] | None,
                 engine: OcrEngine | None = None):
        if people is None:
            raise ValueError("the text check needs the register's names (person_id, name): none were given")
        self.settings = config.text
        # staff named as the photographer are no reason (formats/credits.py); a role not given counts as a pupil
        self.staff = frozenset(p[0] for p in people if len(p) > 2 and p[2] == "staff")
        academies = [(a.id, (a.name, *a.aliases)) for a in config.academies]
        targets = nm.targets(academies, people)
        self.matcher = nm.Matcher(targets, floor=REPORT_FLOOR)
        self.edges = EdgeMatcher(targets, floor=REPORT_FLOOR)  # names on lines the picture's edge cuts
        self.engine = engine if engine is not None else OcrEngine(
            min_letter_px=self.settings.min_letter_px, tile_side=self.settings.tile_side)

    def detect(self, picture, earlier) -> list[TextFinding]:
        findings: list[TextFinding] = []
        for i, frame in enumerate(picture.frames):
            view = picture.view(i) if hasattr(picture, "view") else ""
            findings += [dataclasses.replace(f, view=view) if view else f
                         for f in self.findings(self.engine.read(frame), frame=i, width=frame.shape[1],
                                                height=frame.shape[0])]
        for view, pixels in getattr(picture, "repeats", ()):  # thumbnails of the picture itself
            findings += [dataclasses.replace(f, view=view)
                         for f in self.findings(self.engine.read(pixels), width=pixels.shape[1],
                                                height=pixels.shape[0]) if f.target]  # a name left there, not text it cannot read
        if getattr(picture, "data", b""):  # a video frame has none: its clip's tags are read by detect_tags
            own = captions.photo_captions(picture.data)
            findings += self.in_metadata(own + captions.info_captions(getattr(picture, "info", {}), own)
                                         + captions.sidecar_captions(Path(picture.path))
                                         + captions.name_caption(picture.path))
            findings += self.pupils_in(credits.photo_credits(picture.data))
        return findings

    def detect_tags(self, tags: dict[str, str], path: Path | None = None, fmt: str = "") -> list[TextFinding]:
        """Names in a clip's text tags (shown as its caption, album, chapters...), in its own XMP
        and in its XMP sidecars."""
        texts = captions.video_captions(tags)
        if path is not None:
            seen = {" ".join(text.split()) for _, text in texts}
            texts += [(w, t) for w, t in video_metadata.user_data_texts(Path(path), fmt) if " ".join(t.split()) not in seen]
            texts += captions.xmp_captions(video_metadata.clip_xmp(Path(path), fmt), "clip's")
            texts += video_metadata.clip_c2pa_captions(Path(path), fmt)
            texts += captions.sidecar_captions(Path(path)) + captions.name_caption(path)
        makers = credits.clip_credits(tags) + (video_metadata.clip_c2pa_credits(Path(path), fmt) if path else [])
        return self.in_metadata(texts) + self.pupils_in(makers)

    def pupils_in(self, texts: Sequence[tuple[str, str]]) -> list[TextFinding]:
        """Pupils' names in the photographer's and author's fields (formats/credits.py): not staff's,
        nor the academy's (its name is the usual credit)."""
        return self.in_metadata(texts, pupils_only=True)

    def in_metadata(self, texts: Sequence[tuple[str, str]], pupils_only: bool = False) -> list[TextFinding]:
        """Names in captions, titles and keywords: (where, text) pairs; no box, full confidence.
        `pupils_only`: the photographer's fields (pupils_in)."""
        out: dict[tuple[str, str, str], TextFinding] = {}
        for where, text in texts:
            text = " ".join(text.split())  # one line, as a caption is shown
            matches = self._pupils(text) if pupils_only else self.matcher.find(text)
            for m in matches:
                key = (where, m.target.kind, m.target.id)
                if key not in out or m.similarity > out[key].similarity:
                    out[key] = TextFinding(None, _shortened(text, m.start, m.end), 1.0, 0, target=m.target.kind,
                                           target_id=m.target.id, name=m.target.name, similarity=m.similarity,
                                           source=where)
        return list(out.values())

    def _pupils(self, text: str, offset: int = 0, depth: int = 0) -> list:
        """The pupils' matches of a credit but those a staff member's explains, occurrence by occurrence
        (RT31-24): where a staff name explained a pupil's match, the text around the staff names is
        looked at again ("Amelia Hart-Jones and Amelia Hart": the pupil after the staff member)."""
        matches = self.matcher.find(text)
        kept = _pupils_not_staff(matches, self.staff, text)
        pupils = [m for m in matches if m.target.kind == "person" and m.target.id not in self.staff]
        spans = sorted((m.start, m.end) for m in matches if m.target.kind == "person" and m.target.id in self.staff)
        out = [dataclasses.replace(m, start=m.start + offset, end=m.end + offset) for m in kept]
        if len(kept) == len(pupils) or not spans or depth >= MAX_STAFF_SPLITS:
            return out
        at = 0
        for a, b in spans + [(len(text), len(text))]:
            if a > at:
                out += self._pupils(text[at:a], offset + at, depth + 1)
            at = max(at, b)
        return out

    def findings(self, lines: Sequence[TextLine], frame: int = 0, width: int = 0,
                 height: int = 0) -> list[TextFinding]:
        """Matches in single lines and in runs of adjacent lines, and (given the picture's `width`
        and `height`) names cut by its edges; then the unreadable lines."""
        best: dict[tuple[str, str, tuple[int, ...]], TextFinding] = {}
        matched: set[int] = set()
        for run in runs([line.box for line in lines], MAX_LINES, [_pitch(line) for line in lines]):
            for order, texts in _ways_read(lines, run):
                text, spans = _joined(texts)
                for m in self.matcher.find(text):
                    used = tuple(order[k] for k, (a, b) in enumerate(spans) if a < m.end and m.start < b)
                    if len(run) > 1 and len(used) < len(run):
                        continue  # the same match in a shorter run is reported from there
                    key = (m.target.kind, m.target.id, tuple(sorted(used)))
                    finding = TextFinding(
                        box=_union([lines[i].box for i in used]),
                        text=" / ".join(texts[order.index(i)] for i in used),
                        ocr_score=round(min(lines[i].score for i in used), 3),
                        height=min(lines[i].height for i in used),
                        target=m.target.kind, target_id=m.target.id, name=m.target.name,
                        similarity=m.similarity, frame=frame)
                    if key not in best or finding.similarity > best[key].similarity:
                        best[key] = finding
                    matched.update(used)
        for i, finding in self._cut_by_edge(lines, width, height, frame):
            key = (finding.target, finding.target_id, (i,))
            if key not in best or finding.similarity > best[key].similarity:
                best[key] = finding
            matched.add(i)
        findings = _strongest(list(best.values())) + written_locations(lines, frame)
        for i, line in enumerate(lines):
            if i not in matched and line.score < UNREADABLE_BELOW:
                findings.append(TextFinding(line.box, line.text, round(line.score, 3), line.height, frame=frame))
        return findings

    def _cut_by_edge(self, lines: Sequence[TextLine], width: int, height: int, frame: int):
        """(line index, finding) for each name a line reaching the picture's edge shows cut (RT20-13),
        in each way the engine read the line, as whole names are looked for (_ways_read): a cut
        line's mirrored reading may be the surest ('TAAH YM' over 'MY HART', RT24-3)."""
        for i, line in enumerate(lines):
            sides = cut_sides(edges_reached(line.box, line.height, width, height)) if width else ()
            for text in dict.fromkeys([line.text] + [t for t, _ in line.readings]) if sides else ():
                for side in sides:
                    for m in self.edges.find(text, side):
                        yield i, TextFinding(box=line.box, text=text, ocr_score=round(line.score, 3),
                                             height=line.height, target=m.target.kind, target_id=m.target.id,
                                             name=m.target.name, similarity=m.similarity, frame=frame)


def _pupils_not_staff(matches, staff: frozenset, text: str) -> list:
    """The pupils' matches of a credit, but those a staff member's match explains better (RT30-9): a
    pupil's name inside a longer staff name ("Amelia Hart" in "Amelia Hart-Jones"), a closer staff
    match over it ("Mohammed Khan" for "Muhammad Khan"), or the staff member's name written exactly
    where the pupil's is not ("Jo Hart" for "Joe Hart"). The same name for both stays: fail closed. A
    staff match spanning more words than the staff name (a sibling list's pairing, "Tom and Amelia
    Hart" for Tom Hart) explains nothing: the pupil in that list is the list's too (RT33b-4)."""
    def exact(m) -> bool:
        return _letters(text[m.start:m.end]) == _letters(m.target.name)

    def explains(s, m) -> bool:
        if not (s.start <= m.start and m.end <= s.end) or _word_count(text[s.start:s.end]) > _word_count(s.target.name):
            return False  # (a staff member's pairing out of a list of siblings spans the others: RT33b-4)
        longer = (s.end - s.start) > (m.end - m.start)
        return s.similarity > m.similarity or (longer and s.similarity >= m.similarity) or \
            (s.similarity == m.similarity and exact(s) and not exact(m))

    people = [m for m in matches if m.target.kind == "person"]
    by_staff = [m for m in people if m.target.id in staff]
    return [m for m in people if m.target.id not in staff and not any(explains(s, m) for s in by_staff)]


def _word_count(text: str) -> int:
    """Runs of letters: "Tom/Amelia Hart" is three words, as "Tom and Amelia Hart" is four (RT33c-1)."""
    return len(_LETTER_RUN.findall(text))


_LETTER_RUN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


def _letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def written_locations(lines: Sequence[TextLine], frame: int = 0) -> list[TextFinding]:
    """Coordinates or a UK postcode written in the picture (a GPS camera app's stamp, a sign):
    target "location", named "coordinates" or "postcode"; a line, or two that read on, once."""
    found: list[TextFinding] = []
    used: set[int] = set()
    for run in sorted(runs([line.box for line in lines], 2), key=len):
        if used.intersection(run):
            continue
        text = " ".join(lines[i].text for i in run)
        what = "coordinates" if coordtext.positions(text) else "postcode" if coordtext.postcodes(text) else ""
        if what:
            used.update(run)
            found.append(TextFinding(_union([lines[i].box for i in run]), " / ".join(lines[i].text for i in run),
                                     round(min(lines[i].score for i in run), 3), min(lines[i].height for i in run),
                                     target="location", name=what, frame=frame))
    return found


def _ways_read(lines: Sequence[TextLine], run: tuple[int, ...]):
    """(order, texts) of a run as read: its surest readings, then each way the engine read every
    line of it (turned over or mirrored top to bottom, a sign's lines follow in reverse order)."""
    yield run, [lines[i].text for i in run]
    ways = min(len(lines[i].readings) for i in run)
    for way in range(ways):
        order = run[::-1] if REVERSED_ORDER[way] else run
        texts = [lines[i].readings[way][0] for i in order]
        if texts != [lines[i].text for i in order] or order != run:
            yield order, texts


def runs(boxes: Sequence[Box], longest: int, pitches: Sequence[float] | None = None) -> list[tuple[int, ...]]:
    """Every line alone, and each run of up to `longest` lines that read on from one to the next.

    A line reads on below another when it starts within about a line's height under it, overlaps
    it across, and is of a similar size (a banner's "Welcome to" may be smaller than the name);
    or beside it, on the same baseline, within two line heights (detection split a line) or three
    letter pitches, whichever is wider (lettering tracked a capital apart: RT12-19).
    """
    pitch = list(pitches) if pitches is not None else [0.0] * len(boxes)
    following = {}
    for i in range(len(boxes)):
        near = [j for j in range(len(boxes)) if j != i and _reads_on(boxes[i], boxes[j])]
        tracked = [j for j in range(len(boxes)) if j != i and j not in near
                   and _reads_on(boxes[i], boxes[j], 3 * max(pitch[i], pitch[j]))]
        following[i] = near + _nearest(boxes[i], tracked, boxes)
    out: list[tuple[int, ...]] = []
    stack: list[tuple[int, ...]] = [(i,) for i in range(len(boxes))]
    while stack:
        run = stack.pop()
        out.append(run)
        if len(run) < longest:
            stack += [run + (j,) for j in following[run[-1]] if j not in run]
    return out


# A line reads on, by letter pitch alone, to at most this many others (the nearest beside it):
# runs stay few however many lines of scattered letters crowd one baseline (the runs of
# `longest` lines grow as its power). What reads on within two line heights is never capped.
MAX_FOLLOWING = 4


def _nearest(a: Box, js: list[int], boxes: Sequence[Box]) -> list[int]:
    return sorted(js, key=lambda j: abs(boxes[j][0] - a[0] - a[2]) + abs(boxes[j][1] - a[1]))[:MAX_FOLLOWING]


def _pitch(line: TextLine) -> float:
    """The line's width per character read: how far apart its letters stand."""
    return line.box[2] / max(len(line.text.strip()), 1)


def _reads_on(a: Box, b: Box, beside: float = 0.0) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    if not (0.4 <= bh / max(ah, 1) <= 2.5):
        return False
    across = min(ax + aw, bx + bw) - max(ax, bx)
    below = by - (ay + ah)
    if by > ay + ah / 2 and below <= 1.2 * max(ah, bh) and across >= 0.3 * min(aw, bw):
        return True
    down = min(ay + ah, by + bh) - max(ay, by)
    gap = bx - (ax + aw)
    return down >= 0.5 * min(ah, bh) and -0.2 * ah <= gap <= max(2 * max(ah, bh), beside) and bx > ax


def _joined(texts: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    spans, parts, at = [], [], 0
    for t in texts:
        spans.append((at, at + len(t)))
        parts.append(t)
        at += len(t) + 1
    return "\n".join(parts), spans  # a line break: a name's words may not skip words across it


def _shortened(text: str, start: int, end: int, around: int = 40) -> str:
    """The matched part of a long caption with a little of what surrounds it."""
    if len(text) <= 2 * around + (end - start):
        return text
    a, b = max(0, start - around), min(len(text), end + around)
    return ("..." if a else "") + text[a:b] + ("..." if b < len(text) else "")


def _union(boxes: Sequence[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def _strongest(findings: list[TextFinding]) -> list[TextFinding]:
    """One finding per target and place: a run that only adds lines to a match is dropped."""
    # surest first; of two as sure, the longer name (the full name over an alias), the smaller box
    findings.sort(key=lambda f: (-f.similarity, -len(f.name), f.box[2] * f.box[3]))
    kept: list[TextFinding] = []
    for f in findings:
        if any(k.target_id == f.target_id and k.target == f.target and _overlaps(k.box, f.box) for k in kept):
            continue
        kept.append(f)
    return kept


def _overlaps(a: Box, b: Box) -> bool:
    return (min(a[0] + a[2], b[0] + b[2]) > max(a[0], b[0])) and (min(a[1] + a[3], b[1] + b[3]) > max(a[1], b[1]))
