"""Place names in XMP: which properties are a place (formats/geotags.py reads them).

The rule is general (RT29-20), as it is for coordinates: a property of ANY namespace whose name is
a place's (City, Location, Sublocation, LocationName, LocationId, State, ProvinceState, Country,
CountryCode, WorldRegion, shotLocation, County, Town, Address, PostalCode...), or ends in "City" or
"Location" (mediapro:City, a vendor's ShootingLocation, EventCity, shootinglocation), is a place.
Not the English nouns in "-city" (LayerOpacity, FlightVelocity, BatteryCapacity, Electricity: a closed
list of such nouns, so "Photocity" stays a place: RT33a-5), nor the named Locations of a part of the
picture or of the device, as whole names (exif:SubjectLocation is a pixel; AFPointLocation,
FaceLocation, FocusLocation, StorageLocation, FileLocation: RT31-14); any other "...Location"
(MeetingPointLocation, ClipLocation, MediaLocation, AreaLocation: RT33a-5) is a place. Named in the
trust's words for the vocabularies that are common; otherwise by its own name. Not places: the photographer's contact
address (Iptc4xmpCore:CreatorContactInfo's CiAdrCity, CiAdrRegion...: where the studio is, not the
photo) and the face regions of MWG (mwg-rs:Regions, Area: parts of the picture).
"""

from __future__ import annotations

import re

EXIF_NS = "http://ns.adobe.com/exif/1.0/"
_PS = "http://ns.adobe.com/photoshop/1.0/"
_CORE = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
LABELS = {
    (_PS, "City"): "City",
    (_PS, "State"): "Province/State",
    (_PS, "Country"): "Country",
    (_CORE, "Location"): "Sub-location",
    (_CORE, "CountryCode"): "Country code",
    (_EXT, "City"): "City",
    (_EXT, "Sublocation"): "Sub-location",
    (_EXT, "ProvinceState"): "Province/State",
    (_EXT, "CountryName"): "Country",
    (_EXT, "CountryCode"): "Country code",
    (_EXT, "LocationName"): "Location name",
    (_EXT, "LocationId"): "Location id",
    (_EXT, "WorldRegion"): "World region",
    ("http://ns.adobe.com/xmp/1.0/DynamicMedia/", "shotLocation"): "Shot location",  # Premiere, Bridge
    (EXIF_NS, "GPSAreaInformation"): "GPS area",
}
_NAMES = frozenset((
    "city town village county state province provincestate country countryname countrycode worldregion "
    "location sublocation locationname locationid shotlocation place placename venue address street "
    "postcode postalcode zipcode gpsareainformation").split())
# English nouns in "-city" (opacity, velocity, electricity...): not "...City"; a closed list (RT33a-5)
_CITY_NOUN = re.compile(r"(?:opa|velo|capa|electri|scar|elasti|toxi|publi|simpli|authenti|specifi|periodi|plasti"
                        r"|eccentri|dupli|fero|atro|auda|tena|vera|vora|feli|domesti|ethni|multipli|spheri|cycli"
                        r"|lubri|saga|rapa|loqua|perspica|pertina)city$")
# a Location that is a point of the picture or a place on the device, not where it was taken: whole
# names only (RT33a-5: "MeetingPointLocation", "ClipLocation" are places)
_PART = re.compile(r"(?:subject|afpoint|afarea|af|focus|focuspoint|face|eye|pixel|crop|touch|metering|cursor"
                   r"|storage|file|folder|save|card|memory|thumbnail|preview|layer)[_-]?location")
_NOT = re.compile(r"^ciadr")  # the creator's contact address


def label(ns: str, name: str) -> str | None:
    """How a property ({ns}name split) is named as a place, or None when it is not one."""
    known = LABELS.get((ns, name))
    if known:
        return known
    local = name.lower()
    if _NOT.match(local) or not (local in _NAMES or _suffixed(name)):
        return None
    return name[:1].upper() + name[1:]


def _suffixed(name: str) -> bool:
    """The name ends in a place word: "...City" (not a "-city" noun in lower case), "...Location" (not a part's)."""
    local = name.lower()
    if local.endswith("city"):
        return name.endswith("City") or not _CITY_NOUN.search(local)
    return local.endswith("location") and not _PART.fullmatch(local)


_ORDER = {key: i for i, key in enumerate(LABELS)}


def rank(ns: str, name: str) -> int:
    """Where a property comes in a finding's text: the common vocabularies' order, then the rest."""
    return _ORDER.get((ns, name), len(_ORDER))
