"""Geometry of units: each node's GeoJSON boundary, or a deterministic stand-in.

The synthetic city gives every node a rectangle nested in its parent's. Nodes
created without a boundary (hand-made trees, tests) get a derived rectangle:
starting from a box around Taiyuan, each path segment below the city picks one cell of
a 4×4 split of the parent's box (a building comes out about 50 m wide), so
children nest in parents and the same path always
gives the same rectangle. Polygons drawn on the map select the buildings whose
centre lies inside (shapely, vectorised).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import shapely
from django.utils.translation import gettext as _
from shapely.geometry import shape

from fangkong.core.errors import ValidationFailed
from fangkong.core.models import PATH_ALPHABET, PATH_SEGMENT

ROOT_BOX = (112.30, 37.60, 112.80, 38.05)  # around Taiyuan (lon/lat)
SPLIT = 4
MAX_POLYGON_POINTS = 2000


def _segment_index(segment: str) -> int:
    n = 0
    for ch in segment:
        n = n * len(PATH_ALPHABET) + PATH_ALPHABET.index(ch)
    return n


def derived_box(path: str) -> tuple[float, float, float, float]:
    w, s, e, n = ROOT_BOX
    # Province and city keep the whole box; each level below takes one cell.
    for i in range(2 * PATH_SEGMENT, len(path), PATH_SEGMENT):
        idx = _segment_index(path[i : i + PATH_SEGMENT]) % (SPLIT * SPLIT)
        col, row = idx % SPLIT, idx // SPLIT
        dx, dy = (e - w) / SPLIT, (n - s) / SPLIT
        x0, y0 = w + col * dx, s + row * dy
        w, s, e, n = x0 + dx * 0.05, y0 + dy * 0.05, x0 + dx * 0.95, y0 + dy * 0.95
    return (w, s, e, n)


def box_polygon(box: tuple[float, float, float, float]) -> dict[str, Any]:
    w, s, e, n = (round(v, 6) for v in box)
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def node_geometry(path: str, boundary: dict[str, Any] | None) -> dict[str, Any]:
    if boundary and boundary.get("type") in ("Polygon", "MultiPolygon"):
        return boundary
    return box_polygon(derived_box(path))


def centre(path: str, boundary: dict[str, Any] | None) -> tuple[float, float]:
    if boundary and boundary.get("type") == "Polygon":
        ring = boundary["coordinates"][0]
        xs = [p[0] for p in ring[:-1]] or [0.0]
        ys = [p[1] for p in ring[:-1]] or [0.0]
        return (sum(xs) / len(xs), sum(ys) / len(ys))
    if boundary and boundary.get("type") == "MultiPolygon":
        c = shape(boundary).centroid
        return (c.x, c.y)
    w, s, e, n = derived_box(path)
    return ((w + e) / 2, (s + n) / 2)


def clean_polygon(data: Any) -> Any:
    """A shapely polygon from GeoJSON (geometry or feature) or a list of [lon, lat]
    points; refuses anything that is not one valid, non-empty area."""
    field = {"polygon": _("Draw an area of at least three points that does not cross itself.")}
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if isinstance(data, list):
        data = {"type": "Polygon", "coordinates": [data]}
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationFailed(fields=field)
    try:
        coords = data.get("coordinates") or []
        if data["type"] == "Polygon" and coords and coords[0] and coords[0][0] != coords[0][-1]:
            data = {"type": "Polygon", "coordinates": [[*coords[0], coords[0][0]], *coords[1:]]}
        geom = shape(data)
        points = len(shapely.get_coordinates(geom))
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        shapely.errors.ShapelyError,
    ):
        raise ValidationFailed(fields=field) from None
    if points > MAX_POLYGON_POINTS or geom.is_empty or not geom.is_valid or geom.area <= 0:
        raise ValidationFailed(fields=field)
    return geom


def points_inside(geom: Any, rows: Iterable[tuple[int, float, float]]) -> list[int]:
    """Ids of the (id, x, y) rows whose point lies inside ``geom``."""
    rows = list(rows)
    if not rows:
        return []
    import numpy as np

    xs = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
    ys = np.fromiter((r[2] for r in rows), dtype=float, count=len(rows))
    shapely.prepare(geom)
    mask = shapely.contains_xy(geom, xs, ys)
    return [rows[i][0] for i in np.nonzero(mask)[0]]
