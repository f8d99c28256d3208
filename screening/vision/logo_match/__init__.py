"""Finding one reference crest in an image: features, geometric check, appearance check.

Pure functions on numpy arrays; the detector (detectors/logos.py) owns the references and
the image handling. The steps, each measured in bench/bench_logos.py:

1. SIFT keypoints on the image; reference descriptors computed at several scales of the
   reference (a crest 60 px wide in a photo looks like the reference shrunk, not like the
   512 px original), matched through one FLANN index of the photo with a ratio test that
   ignores near-duplicate neighbours. A crest whose colours have nearly the same lightness
   (maroon on teal, blue on red) is almost blank in grey: such a reference also gets
   features on the opponent-colour channels (Lab a and b), and the image is searched on
   those channels too.
2. A robust transform (RANSAC similarity/affine from few matches, homography from many).
3. A colour-and-shape cue for flat crests that give too few keypoints: regions of the photo
   in the crest's colours whose outline has the crest's shape, or its field's shape, are
   proposed as placements. Without keypoints behind them they must look more alike, and a
   detailed crest placed this way needs some of its keypoints to agree.
4. Appearance: each placement is aligned (ECC), the photo is warped back into the reference
   frame and compared there: the pattern channel by channel (gain and offset free, so
   lighting does not matter), the colour pattern (shift free, so casts do not matter), the
   crest's mean colour (a cast moves it a little, another school's palette a lot) and the
   share of the crest's parts that agree (so another school's crest of the same shape does
   not pass). The colour checks cap the score. A crest whose colours a cast can break (an
   embroidered or black-and-white badge), placed by keypoints but failing the colour pattern, is
   judged again on the photo with its own grey-world cast taken out, and counts only when its fine
   detail agrees there (cast.py).
"""

from __future__ import annotations

from screening.vision.logo_match.params import (  # noqa: F401
    ACHROMATIC, CANONICAL, CHROMA_A, CHROMA_AGREES, CHROMA_B, CHROMA_GAIN, CHROMA_SCALE, COLOUR_STEP,
    CONFIRM_BELOW, CONFIRM_FROM_PX, CONFIRM_INLIERS, DETAIL_AGREES, DETAILED_KEYPOINTS, ELSEWHERE_PX, FLANN_CHECKS, FLANN_TREES, GLANCE, GREY, INDEX_K,
    MAX_SHAPE_DISTANCE, MIN_CHANNEL_STD, MIN_REGION_PX, MIN_SUPPORT, MIN_VISIBLE, PREFILTER_CELL,
    PREFILTER_TOL, RATIO, REF_SCALES, SHIFT_CAST, SHIFT_FAR, THIN_GREY, TOLERANCES, UNMATCHED_PENALTY,
    VERIFY,
)
from screening.vision.logo_match.reference import (  # noqa: F401
    Placement, Reference, appearance_channels, channel_images, main_colours, make_reference,
    reference_from_arrays, sift,
)
from screening.vision.logo_match.index import (  # noqa: F401
    ChannelFeatures, ReferenceIndex, features, image_features, match, match_all, placements,
    sane,
)
from screening.vision.logo_match.verify import (  # noqa: F401
    aligned, colour_agreement, detail, refine, support, verify,
)
from screening.vision.logo_match.confirm import confirmed  # noqa: F401
from screening.vision.logo_match.colour import (  # noqa: F401
    ColourPresence, ColourView, colour_shape_placements, colour_views,
)
from screening.vision.logo_match.identity import (  # noqa: F401
    name, same_layout, vote,
)
