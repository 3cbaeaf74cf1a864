/* Fangkong zones: the zone map (ECharts geo over the units' own GeoJSON, no
   online tiles) and the drawing tool of the declaration form. Labels come from
   the page; data from the map endpoint and json_script blocks. */
(function () {
  "use strict";

  function getJSON(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () { if (xhr.status === 200) { done(JSON.parse(xhr.responseText)); } };
    xhr.send();
  }

  function mapName(data) { return "fk-zones-" + (data.version || 0); }

  function register(data) {
    var features = (data.outline || []).concat(data.geojson.features);
    var name = mapName(data);
    echarts.registerMap(name, { type: "FeatureCollection", features: features });
    return name;
  }

  function regions(data) {
    var out = (data.outline || []).map(function (f) {
      return { name: f.properties.name, itemStyle: { areaColor: "#eef1f5", borderColor: "#c5cdd8" }, label: { show: false } };
    });
    data.geojson.features.forEach(function (f) {
      out.push({
        name: f.properties.name,
        itemStyle: { areaColor: f.properties.colour, borderColor: "#ffffff", opacity: 0.85 },
        emphasis: { itemStyle: { areaColor: f.properties.colour, opacity: 1 } }
      });
    });
    return out;
  }

  // The zone map: the districts and streets as the base layer (FangkongMap), the
  // zones' units in their level's colour, recent cases as dots; a click opens the
  // zone's card.
  function zoneMap(el) {
    getJSON(el.dataset.url, function (data) {
      window.FangkongMap.draw(el, {
        areas: data.geojson.features,
        points: (data.cases || []).map(function (c) {
          return { lon: c.value[0], lat: c.value[1], label: el.dataset.caseLabel.replace("%(n)s", c.value[2]), colour: "#3a0b0e", size: 6 + Math.min(c.value[2], 10) * 2 };
        }),
        focus: "areas",
        onArea: function (f) {
          var target = document.getElementById("zone-card");
          var url = el.dataset.cardUrl.replace("/0/", "/" + f.properties.zone_id + "/");
          if (window.htmx) { window.htmx.ajax("GET", url, { target: target }); }
        }
      });
    });
  }

  function inside(pt, poly) {
    var x = pt[0], y = pt[1], hit = false;
    for (var i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      var xi = poly[i][0], yi = poly[i][1], xj = poly[j][0], yj = poly[j][1];
      if (((yi > y) !== (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) { hit = !hit; }
    }
    return hit;
  }

  // Start the drawing map on the area's buildings (a building is a few metres:
  // at district scale it would be smaller than a pixel).
  function extent(buildings) {
    if (!buildings.length) { return null; }
    var minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
    buildings.forEach(function (b) {
      minx = Math.min(minx, b[1]); maxx = Math.max(maxx, b[1]);
      miny = Math.min(miny, b[2]); maxy = Math.max(maxy, b[2]);
    });
    var px = Math.max((maxx - minx) * 0.15, 0.0003), py = Math.max((maxy - miny) * 0.15, 0.0003);
    return [[minx - px, maxy + py], [maxx + px, miny - py]];
  }

  function drawMap(el) {
    var chart = echarts.init(el);
    var buildings = JSON.parse(document.getElementById(el.dataset.buildings).textContent);
    var field = el.closest("form").querySelector("input[name=polygon]");
    var status = document.getElementById("draw-status");
    var points = [];
    try { if (field.value) { points = JSON.parse(field.value); } } catch (e) { points = []; }

    function render() {
      var chosen = points.length >= 3 ? buildings.filter(function (b) { return inside([b[1], b[2]], points); }) : [];
      var chosenIds = {};
      chosen.forEach(function (b) { chosenIds[b[0]] = true; });
      chart.setOption({ series: [
        { id: "buildings", type: "scatter", coordinateSystem: "geo", symbolSize: 5, silent: true,
          data: buildings.map(function (b) { return { value: [b[1], b[2]], itemStyle: { color: chosenIds[b[0]] ? "#0d1b2e" : "#9aa7b8" } }; }) },
        { id: "outline", type: "lines", coordinateSystem: "geo", polyline: true, silent: true,
          lineStyle: { color: "#b4232a", width: 2 },
          data: points.length >= 2 ? [{ coords: points.concat(points.length >= 3 ? [points[0]] : []) }] : [] },
        { id: "corners", type: "scatter", coordinateSystem: "geo", symbolSize: 8, silent: true,
          itemStyle: { color: "#b4232a" }, data: points }
      ] });
      field.value = points.length ? JSON.stringify(points) : "";
      status.textContent = status.dataset.template.replace("%(c)s", points.length).replace("%(b)s", chosen.length);
      el.dataset.corners = points.length;
      el.dataset.chosen = chosen.length;
    }

    getJSON(el.dataset.url, function (data) {
      var name = register(data);
      var geo = { map: name, roam: true, regions: regions(data), label: { show: false }, itemStyle: { areaColor: "#eef1f5", borderColor: "#c5cdd8" } };
      var bounds = extent(buildings);
      if (bounds) { geo.boundingCoords = bounds; }
      chart.setOption({ animation: false, geo: geo, series: [] });
      chart.getZr().on("click", function (e) {
        var pt = chart.convertFromPixel({ geoIndex: 0 }, [e.offsetX, e.offsetY]);
        if (!pt) { return; }
        points.push([Math.round(pt[0] * 1e6) / 1e6, Math.round(pt[1] * 1e6) / 1e6]);
        render();
      });
      render();
      el.dataset.ready = "1";
    });
    document.getElementById("draw-undo").addEventListener("click", function () { points.pop(); render(); });
    document.getElementById("draw-clear").addEventListener("click", function () { points = []; render(); });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    var m = document.getElementById("zone-map");
    if (m) { zoneMap(m); }
    var d = document.getElementById("draw-map");
    if (d) { drawMap(d); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
