/* Command dashboard and daily report: new cases by day (ECharts, data from json_script). */
(function () {
  "use strict";
  var COLOURS = ["#b4232a", "#d9a521"];

  function draw() {
    var src = document.getElementById("hq-cases-data") || document.getElementById("hq-report-chart-data");
    var el = document.getElementById("hq-cases-chart");
    if (!src || !el || !window.echarts) return;
    var d = JSON.parse(src.textContent);
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0 },
      grid: { left: 8, right: 16, top: 8, bottom: 36, containLabel: true },
      xAxis: { type: "category", data: d.labels || d.dates.map(function (x) { return x.slice(5); }) },
      yAxis: { type: "value", minInterval: 1 },
      series: d.series.map(function (s, i) {
        return { name: s.name, type: "bar", stack: "cases", data: s.data, itemStyle: { color: COLOURS[i] } };
      })
    });
    el.setAttribute("data-ready", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
