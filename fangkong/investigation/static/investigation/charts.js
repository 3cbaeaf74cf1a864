/* Fangkong investigation charts: ECharts set-up for the chain graph, the cluster
   list and the onset timeline. Data comes from json_script blocks on the page;
   labels arrive already translated. No other behaviour lives here. */
(function () {
  "use strict";

  function readData(el) {
    var source = document.getElementById(el.dataset.source);
    return source ? JSON.parse(source.textContent) : null;
  }

  function chainOption(data) {
    // One row per generation, nodes spread across the row. Drawn on hidden value
    // axes (not the "view" system) so that node symbols stay round at any size.
    var colour = {};
    data.categories.forEach(function (c) { colour[c.name] = c.colour; });
    var byGen = {};
    data.nodes.forEach(function (n) { (byGen[n.generation] = byGen[n.generation] || []).push(n); });
    var gens = Object.keys(byGen).map(Number);
    var widest = Math.max.apply(null, gens.map(function (g) { return byGen[g].length; }).concat([1]));
    var index = {};
    var nodes = [];
    gens.sort(function (a, b) { return a - b; }).forEach(function (g) {
      var row = byGen[g];
      row.forEach(function (n, i) {
        index[n.id] = nodes.length;
        nodes.push({
          id: String(n.id),  // names repeat (masked: 张*): ECharts tells nodes apart by id
          name: n.name,
          value: [i - (row.length - 1) / 2, g],
          category: data.categories.findIndex(function (c) { return c.name === n.category; }),
          symbolSize: n.current ? 30 : (n.category === "contact" ? 14 : 20),
          itemStyle: n.current ? { borderColor: "#0d1b2e", borderWidth: 3 } : undefined,
          detail: n.detail,
          url: n.url
        });
      });
    });
    var half = (widest - 1) / 2 + 0.6;
    return {
      animation: false,
      tooltip: { formatter: function (p) { return p.dataType === "node" ? p.data.name + "<br>" + (p.data.detail || "") : ""; } },
      legend: { data: data.categories.map(function (c) { return c.label; }), bottom: 0 },
      grid: { left: 30, right: 30, top: 30, bottom: 60 },
      xAxis: { type: "value", show: false, min: -half, max: half },
      yAxis: { type: "value", show: false, inverse: true, min: 0.6, max: Math.max.apply(null, gens.concat([1])) + 0.4 },
      series: [{
        type: "graph",
        coordinateSystem: "cartesian2d",
        label: { show: true, position: "bottom", fontSize: 11 },
        edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: 8,
        categories: data.categories.map(function (c) { return { name: c.label, itemStyle: { color: colour[c.name] } }; }),
        data: nodes,
        links: data.edges.filter(function (e) {
          return index[e.source] !== undefined && index[e.target] !== undefined;
        }).map(function (e) {
          return {
            source: index[e.source],
            target: index[e.target],
            lineStyle: e.dashed ? { type: "dashed", color: "#8a9bb5" } : { color: "#5b6678", width: 1.5 }
          };
        })
      }]
    };
  }

  function clustersOption(data) {
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: [data.labels.size, data.labels.new], bottom: 0 },
      grid: { left: 40, right: 16, top: 16, bottom: 70 },
      xAxis: { type: "category", data: data.names, axisLabel: { rotate: 30, fontSize: 11 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: data.labels.size, type: "bar", barMaxWidth: 36, data: data.size, itemStyle: { color: "#2e4566" } },
        { name: data.labels.new, type: "bar", barMaxWidth: 36, data: data.new, itemStyle: { color: "#b4232a" } }
      ]
    };
  }

  function timelineOption(data) {
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: data.series.map(function (s) { return s.name; }), bottom: 0 },
      grid: { left: 40, right: 16, top: 16, bottom: 60 },
      xAxis: { type: "category", data: data.days.map(function (d) { return d.slice(5); }) },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "cases", barMaxWidth: 24, data: s.data, itemStyle: { color: s.colour } };
      })
    };
  }

  var builders = { chain: chainOption, clusters: clustersOption, timeline: timelineOption };

  function draw(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var data = readData(el);
      var build = builders[el.dataset.chart];
      if (!data || !build) { return; }
      if (el.dataset.chart === "chain") {
        // Height follows the number of generations (one row each).
        var gens = Math.max.apply(null, data.nodes.map(function (n) { return n.generation; }).concat([1]));
        el.style.height = Math.min(Math.max(300, 120 * gens + 140), 900) + "px";
      }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(build(data));
      if (el.dataset.chart === "chain") {
        chart.on("click", function (p) { if (p.dataType === "node" && p.data.url) { window.location.href = p.data.url; } });
      }
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
  });
  document.body && document.body.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
})();
