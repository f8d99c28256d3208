"""Recognisers on pixels: the face engine, the logo matcher, geometry and colour helpers."""
