/* The public portal's charts and maps, from json_script blocks (no inline script:
   Content-Security-Policy). The maps draw the districts and streets first
   (FangkongMap, fangkong/maps.js): a resident recognises their district. */
(function () {
  "use strict";

  function data(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var value = JSON.parse(el.textContent);
    return typeof value === "string" ? JSON.parse(value) : value;
  }

  function zoneMap() {
    var el = document.getElementById("zone-map");
    var d = data("zone-map-data");
    if (!el || !d || !d.geojson || !window.echarts) { return; }
    var colours = {};
    (d.levels || []).forEach(function (l) { colours[l.code] = l.colour; });
    var areas = (d.geojson.features || []).map(function (f) {
      f.properties.colour = colours[f.properties.level] || f.properties.colour;
      return f;
    });
    window.FangkongMap.draw(el, { areas: areas, focus: "areas" });
  }

  function siteMap() {
    var el = document.getElementById("site-map");
    var points = data("site-data");
    if (!el || !points || !window.echarts) { return; }
    window.FangkongMap.draw(el, {
      points: points.map(function (s) {
        return { lon: s.value[0], lat: s.value[1], label: s.name + " · " + s.status, colour: s.open ? "#1b7a3a" : "#8a91a1", size: 14 };
      }),
      focus: "points"
    });
  }

  function dailyChart() {
    var el = document.getElementById("daily-chart");
    var d = data("daily-data");
    if (!el || !d || !window.echarts) { return; }
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" }, legend: {}, grid: { left: 36, right: 12, bottom: 30 },
      xAxis: { type: "category", data: d.days }, yAxis: { type: "value", minInterval: 1 },
      series: d.series.map(function (s) { return { name: s.name, type: "bar", stack: "n", data: s.data }; })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() { zoneMap(); siteMap(); dailyChart(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
