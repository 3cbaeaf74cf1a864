/* Quarantine pages: the occupancy and bed charts (ECharts, data from json_script),
   and "check all" boxes of the bulk order form. */
(function () {
  "use strict";
  var COLOURS = { occupied: "#2f6fb0", clean: "#3c9a5f", awaiting_disinfection: "#d9a521", maintenance: "#9ca3af" };

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function occupancy() {
    var d = data("occupancy-data");
    var el = document.getElementById("occupancy-chart");
    if (!d || !el || !window.echarts) return;
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0 },
      grid: { left: 8, right: 16, top: 8, bottom: 36, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: d.sites, inverse: true },
      series: d.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "rooms", data: s.data, itemStyle: { color: COLOURS[s.code] } };
      })
    });
    el.setAttribute("data-ready", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function beds() {
    var d = data("beds-data");
    var el = document.getElementById("beds-chart");
    if (!d || !el || !window.echarts) return;
    var chart = window.echarts.init(el);
    var series = [];
    d.series.forEach(function (s, i) {
      series.push({ name: s.name, type: "bar", stack: "s" + i, data: s.used, itemStyle: { color: i ? "#b4232a" : "#2f6fb0" } });
      series.push({ name: s.name, type: "bar", stack: "s" + i, data: s.free, itemStyle: { color: "#e5e7eb" }, tooltip: { show: false } });
    });
    chart.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.hospitals },
      yAxis: { type: "value", minInterval: 1 },
      series: series
    });
    el.setAttribute("data-ready", "1");
  }

  function checkAll() {
    document.querySelectorAll("[data-check-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        var name = box.getAttribute("data-check-all");
        document.querySelectorAll("input[name='" + name + "']").forEach(function (c) { c.checked = box.checked; });
      });
    });
  }

  function bars() {
    // Widths from data (no style attributes in the markup: the CSP forbids them).
    document.querySelectorAll("[data-percent]").forEach(function (el) {
      el.style.width = Math.min(Number(el.getAttribute("data-percent")) || 0, 100) + "%";
    });
    document.querySelectorAll("[data-left]").forEach(function (el) {
      el.style.left = Math.min(Number(el.getAttribute("data-left")) || 0, 100) + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { bars(); occupancy(); beds(); checkAll(); });
})();
