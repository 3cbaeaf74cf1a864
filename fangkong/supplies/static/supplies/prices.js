/* Market prices: one line per market for the chosen item (ECharts, data from json_script). */
(function () {
  "use strict";

  function draw() {
    var src = document.getElementById("price-data");
    var el = document.getElementById("price-chart");
    if (!src || !el || !window.echarts) return;
    var d = JSON.parse(src.textContent);
    var alerts = {};
    d.alerts.forEach(function (a) { alerts[a.market + "|" + a.day] = true; });
    var chart = window.echarts.init(el);
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 8, right: 16, top: 16, bottom: 36, containLabel: true },
      xAxis: { type: "category", data: d.dates },
      yAxis: { type: "value", scale: true },
      series: d.series.map(function (s) {
        return {
          name: s.name,
          type: "line",
          connectNulls: true,
          data: s.values.map(function (v, i) {
            var value = v === null ? null : Number(v);
            if (value !== null && alerts[s.name + "|" + d.dates[i]]) {
              return { value: value, symbol: "diamond", symbolSize: 14, itemStyle: { color: "#b4232a" } };
            }
            return value;
          })
        };
      })
    });
    el.setAttribute("data-ready", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
