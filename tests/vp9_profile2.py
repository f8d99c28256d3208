"""Turn an 8-bit VP9 WebM clip made only of keyframes into a VP9 profile 2 (10-bit) clip, as
YouTube HDR and some phones write: the uncompressed header gains its `ten_or_twelve_bit` bit."""

from __future__ import annotations

from pathlib import Path


class _Bits:
    def __init__(self, data: bytes):
        self.bits = "".join(f"{x:08b}" for x in data)
        self.pos = 0

    def f(self, n: int) -> int:
        value = int(self.bits[self.pos:self.pos + n], 2)
        self.pos += n
        return value


def _header_end(data: bytes, width: int) -> tuple[int, int]:
    """(bit where the colour config starts, bit just after header_size_in_bytes) of a profile 0 keyframe."""
    r = _Bits(data[:64])
    assert r.f(2) == 2 and r.f(2) == 0, "profile 0 expected"
    assert r.f(1) == 0 and r.f(1) == 0, "a keyframe expected"
    r.f(1)
    error_resilient = r.f(1)
    assert r.f(24) == 0x498342
    colour = r.pos
    if r.f(3) != 7:
        r.f(1)
    r.f(32)  # frame size
    if r.f(1):
        r.f(32)
    if not error_resilient:
        r.f(2)
    r.f(2)
    r.f(6), r.f(3)  # loop filter
    if r.f(1) and r.f(1):
        for _ in range(6):
            if r.f(1):
                r.f(7)
    r.f(8)
    for _ in range(3):
        if r.f(1):
            r.f(5)
    assert r.f(1) == 0, "no segmentation expected"
    sb64 = (width + 63) // 64
    min_log2 = 0
    while (64 << min_log2) < sb64:
        min_log2 += 1
    max_log2 = 1
    while (sb64 >> max_log2) >= 4:
        max_log2 += 1
    max_log2 -= 1
    cols = min_log2
    while cols < max_log2 and r.f(1):
        cols += 1
    if r.f(1):
        r.f(1)
    r.f(16)
    return colour, r.pos


def profile2_packet(data: bytes, width: int) -> bytes:
    colour, end = _header_end(data, width)
    bits = "".join(f"{x:08b}" for x in data[:(end + 7) // 8])
    head = "10" + "01" + bits[4:colour] + "0" + bits[colour:end]  # profile 2, 10-bit
    head += "0" * (-len(head) % 8)
    return bytes(int(head[i:i + 8], 2) for i in range(0, len(head), 8)) + data[(end + 7) // 8:]


def write_profile2(source: Path, target: Path) -> Path:
    import av

    with av.open(str(source)) as src, av.open(str(target), "w", format="webm") as out:
        stream = src.streams.video[0]
        width = stream.codec_context.width
        copy = out.add_stream_from_template(stream)
        for packet in src.demux(stream):
            if packet.size == 0:
                continue
            new = av.Packet(profile2_packet(bytes(packet), width))
            new.pts, new.dts, new.time_base = packet.pts, packet.dts, packet.time_base
            new.is_keyframe = True
            new.stream = copy
            out.mux(new)
    return target
