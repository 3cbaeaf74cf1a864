/* Screening dashboard chart: coverage % and positives per area (ECharts). Data
   comes from a json_script block; labels arrive already translated. */
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-chart=coverage]").forEach(function (el) {
      var source = document.getElementById(el.dataset.source);
      if (!source || !window.echarts) { return; }
      var data = JSON.parse(source.textContent);
      var chart = window.echarts.init(el);
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: [data.labels.coverage, data.labels.positive] },
        grid: { left: 48, right: 48, bottom: 80 },
        xAxis: { type: "category", data: data.names, axisLabel: { rotate: 45 } },
        yAxis: [{ type: "value", max: 100, name: "%" }, { type: "value", minInterval: 1 }],
        series: [
          { name: data.labels.coverage, type: "bar", data: data.coverage, itemStyle: { color: "#2e90fa" } },
          { name: data.labels.positive, type: "line", yAxisIndex: 1, data: data.positive, itemStyle: { color: "#d92d20" } }
        ]
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
