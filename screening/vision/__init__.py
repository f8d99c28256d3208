"""Vision helpers shared by the detectors: face engine, logo matcher, OCR, geometry, colour."""
