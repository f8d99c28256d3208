"""The logo matcher's tuning constants, each with the measurement behind it (bench/bench_logos.py)."""

from __future__ import annotations


CANONICAL = 320  # reference longer side for keypoints
VERIFY = 96  # reference longer side for the appearance check
REF_SCALES = (1.0, 0.5, 0.3, 0.18)
RATIO = 0.8
# Feature channels: 0 grey, 1 Lab a (green-red), 2 Lab b (blue-yellow).
GREY, CHROMA_A, CHROMA_B = 0, 1, 2
# a and b span a narrow range in 8-bit Lab; stretched so SIFT's contrast threshold sees their edges.
CHROMA_GAIN = 2.5
# A reference with fewer grey keypoints than this (at canonical size) is "thin" in grey...
THIN_GREY = 150
# ...and then also gets features on each colour channel whose stretched spread is at least this.
MIN_CHANNEL_STD = 20.0
# The image's colour channels are searched at this fraction of the working size: photos carry
# colour at half resolution anyway (JPEG 4:2:0), and it quarters their cost.
CHROMA_SCALE = 0.5
# The grey channel is searched with its longer side at most this (px): the working size itself,
# so no cap. A cap of 1050 (0.75 of the working size; SIFT's doubled scale is about three quarters
# of its work) made the logo check 0.76x the time on 150 bench cases with no crest lost there,
# but red team 13 found small crests turned 40 degrees (a 44 px north, a 30 px south) on a
# 1400 px photo that it lost (RT13-9): a missed crest is a published logo, so recall first.
GREY_SIDE = 1400
# Neighbours each photo feature gets from the index of all references, and how far (canonical
# pixels) two reference features must be apart to be different places of a crest.
INDEX_K = 12
ELSEWHERE_PX = 8.0
# The approximate nearest-neighbour search of image features: k-d trees and leaves checked.
FLANN_TREES = 4
FLANN_CHECKS = 64
# Colour agreement (_chroma_corr) below this scales the appearance down in proportion; real
# crests under casts and JPEG measured 0.68 and more, same-layout decoys in other colours 0.55.
CHROMA_AGREES = 0.65
# The crest's mean colour may be this far (Lab a/b) from the reference's, as a colour cast or
# faded print moves it, at full score; the score falls to nothing at SHIFT_FAR. Real crests
# under the bench's casts measured up to 25; an orange plate for a maroon one, 55.
SHIFT_CAST = 30.0
SHIFT_FAR = 50.0
# A reference whose chroma varies less than this (Lab a/b spread) is black-and-white.
ACHROMATIC = 4.0
# Colour-and-shape cue: colour tolerances (weighted ΔE) tried, loosest last, and how far
# (Hu-moment distance) a region's outline may be from the crest's: perspective bends it.
TOLERANCES = (8.0, 13.0, 18.0, 26.0)
MAX_SHAPE_DISTANCE = 0.45
MIN_REGION_PX = 150  # smaller regions (in the cue's coarse view) are not searched
# A placement proposed by colour and outline alone has no matching keypoints behind it, only
# its appearance: it must look this much more alike to score the same (bench/bench_logos.py:
# round blobs in a roundel's colours reached appearance 0.76, real flat crests 0.85-0.96).
UNMATCHED_PENALTY = 0.18
# A reference with this many grey keypoints (all scales) is detailed: a placement of it by
# colour and outline that fewer than MIN_SUPPORT keypoint matches agree with is another crest
# of the same outline and colours (bench: the real one had 14 agreeing, look-alike roundels 0-3).
DETAILED_KEYPOINTS = 150
MIN_SUPPORT = 5
# An ECC-aligned placement is kept only when the crest's fine detail (lettering, emblem: the band
# its photo resolves) correlates at least this much with the reference's (verify.detail).
# Chosen on drawn same-layout decoys (RT5-9's family: at most 0.59, at 52 px; 0.49 from 78 px up) and
# the bench's odd-numbered crests (real crests ECC aligned: 0.52 for a flat crest, 0.67-0.93 others).
DETAIL_AGREES = 0.6
# A placement scoring below this whose crest is at least CONFIRM_FROM_PX across (at the photo's own
# resolution) must show its fine detail (detail >= DETAIL_AGREES, as placed or ECC aligned), else it
# scores UNMATCHED_PENALTY less (logo_match.confirm): same-layout decoys placed well by keypoints
# scored 0.70-0.75, real crests of that size 0.85 and more or with detail 0.74 and more.
# Placed by this many keypoint inliers or more, a crest's lettering and emblem have matched already:
# the decoys were placed by 8-13 (the shared shield's corners), a real wordmark 25% hidden, in shade
# and a cast, by 45 (bench 0060: detail 0.33, appearance 0.64).
CONFIRM_BELOW = 0.8
CONFIRM_FROM_PX = 120
CONFIRM_INLIERS = 20
# A crest cut by the frame is judged on the part inside it; less than this share of the crest
# in view is too little to tell one school's crest from another's.
MIN_VISIBLE = 0.4
# The colour prefilter: a reference is searched for only where the photo has its main colours
# side by side. A colour is "there" within this weighted ΔE (looser than any tolerance of the
# colour-and-shape cue, so it never rules out what that cue or the appearance check accept),
# on a grid of cells this many pixels of the coarse view wide.
PREFILTER_TOL = 26.0
PREFILTER_CELL = 6
# The prefilter reads each cell's colours as boxes this wide (weighted Lab): a cell counts for a
# colour when one of its boxes comes within PREFILTER_TOL (at most a box's diagonal, 7, looser).
PALETTE_STEP = 4.0
# ...from this many colours of a view on (reading the palette costs a little once per view; a
# few colours are cheaper pixel by pixel, and those maps serve the colour-and-shape cue too).
PALETTE_FROM = 8
# Academy colours closer than this (weighted ΔE) share one colour map of the photo.
COLOUR_STEP = 2.0
# The appearance check first compares the crest's mean colour on a view this small: a
# placement of another academy's palette ends there, before the full comparison.
GLANCE = 16
