/* Fangkong maps (ECharts geo, offline: no online tiles). Every map draws the
   districts and streets of the jurisdiction tree first (core's /map/base.json,
   labelled with the districts' names), then its own areas (zones, in their
   level's colour, which they keep on hover) and points (sites, cases).

   FangkongMap.draw(element, {
     baseUrl,                        // the base layer (data-base-url of the element)
     areas: [GeoJSON features],      // properties: name (unique), label, colour
     points: [{lon, lat, label, colour, size}],
     focus: "areas" | "points" | "base",
     onArea: function (feature) {},  // click on an area
   }) → the ECharts instance. */
(function () {
  "use strict";

  var cache = {};

  function getJSON(url, done) {
    if (cache[url]) { done(cache[url]); return; }
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status === 200) { cache[url] = JSON.parse(xhr.responseText); done(cache[url]); }
    };
    xhr.send();
  }

  function rings(geometry) {
    if (!geometry) { return []; }
    if (geometry.type === "Polygon") { return [geometry.coordinates[0]]; }
    if (geometry.type === "MultiPolygon") { return geometry.coordinates.map(function (p) { return p[0]; }); }
    return [];
  }

  function extent(coords, grow, least) {
    if (!coords.length) { return null; }
    var minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
    coords.forEach(function (c) {
      minx = Math.min(minx, c[0]); maxx = Math.max(maxx, c[0]);
      miny = Math.min(miny, c[1]); maxy = Math.max(maxy, c[1]);
    });
    var px = Math.max((maxx - minx) * grow, least), py = Math.max((maxy - miny) * grow, least);
    return [[minx - px, maxy + py], [maxx + px, miny - py]];
  }

  var counter = 0;

  function draw(el, opts) {
    var chart = echarts.init(el);
    var areas = opts.areas || [];
    var points = opts.points || [];
    getJSON(opts.baseUrl || el.getAttribute("data-base-url"), function (base) {
      var labels = {};
      var regions = [];
      base.features.forEach(function (f) {
        var district = f.properties.level === "district";
        labels[f.properties.name] = f.properties.label;
        regions.push({
          name: f.properties.name,
          silent: true,
          itemStyle: district
            ? { areaColor: "#f1f4f8", borderColor: "#7d8b9e", borderWidth: 1.6 }
            : { areaColor: "#f7f9fb", borderColor: "#c9d1dc", borderWidth: 0.6, borderType: "dashed" },
          label: district
            ? { show: true, color: "#44536a", fontSize: 12, fontWeight: "bold" }
            : { show: false }
        });
      });
      areas.forEach(function (f) {
        labels[f.properties.name] = f.properties.label;
        var colour = f.properties.colour || "#888888";
        regions.push({
          name: f.properties.name,
          itemStyle: { areaColor: colour, borderColor: "#ffffff", borderWidth: 0.8, opacity: 0.9 },
          emphasis: { itemStyle: { areaColor: colour, opacity: 1, borderColor: "#1b2330", borderWidth: 1.5 }, label: { show: false } },
          label: { show: false }
        });
      });
      var name = "fk-map-" + (counter += 1);
      echarts.registerMap(name, { type: "FeatureCollection", features: base.features.concat(areas) });
      var coords = [];
      if (opts.focus === "points") {
        points.forEach(function (p) { coords.push([p.lon, p.lat]); });
      } else if (opts.focus === "areas") {
        areas.forEach(function (f) { rings(f.geometry).forEach(function (r) { coords = coords.concat(r); }); });
      }
      if (!coords.length) {
        base.features.forEach(function (f) {
          if (f.properties.level === "district") { rings(f.geometry).forEach(function (r) { coords = coords.concat(r); }); }
        });
      }
      var grow = { areas: 1.5, points: 0.08 }[opts.focus] || 0.05;
      var bounds = extent(coords, grow, opts.focus === "areas" ? 0.02 : 0.01);
      var geo = {
        map: name,
        roam: true,
        scaleLimit: { min: 0.5, max: 400 },
        regions: regions,
        selectedMode: false,
        itemStyle: { areaColor: "#f7f9fb", borderColor: "#c9d1dc" },
        emphasis: { disabled: false, label: { show: false } },
        label: {
          show: false,
          formatter: function (p) { return labels[p.name] || ""; }
        }
      };
      if (bounds) { geo.boundingCoords = bounds; }
      chart.setOption({
        animation: false,
        tooltip: {
          formatter: function (p) {
            if (p.seriesType === "scatter") { return p.data.label; }
            return labels[p.name] || "";
          }
        },
        geo: geo,
        series: [{
          type: "scatter",
          coordinateSystem: "geo",
          data: points.map(function (p) {
            return { value: [p.lon, p.lat], label: p.label, symbolSize: p.size || 10, itemStyle: { color: p.colour || "#1554a8", borderColor: "#fff", borderWidth: 1 } };
          })
        }]
      });
      if (opts.onArea) {
        chart.on("click", function (p) {
          if (p.componentType !== "geo") { return; }
          var f = areas.find(function (x) { return x.properties.name === p.name; });
          if (f) { opts.onArea(f); }
        });
      }
      el.setAttribute("data-ready", "1");
      el.setAttribute("data-base-areas", String(base.features.length));
    });
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  window.FangkongMap = { draw: draw, getJSON: getJSON, extent: extent };
})();
