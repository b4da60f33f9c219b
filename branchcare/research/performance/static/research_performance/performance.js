// 推荐绩效: draws the league bar charts and one recommendation's price path from the JSON blocks
// rendered by json_script (no inline scripts under the CSP). Red = positive, green = negative.
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  const UP = "#d9363e";
  const DOWN = "#1a9a4b";
  const charts = [];
  const pct = function (v) {
    if (v === null || v === undefined) { return "—"; }
    return (v > 0 ? "+" : "") + Number(v).toFixed(2) + "%";
  };

  const league = document.getElementById("performance-data");
  if (league) {
    const data = JSON.parse(league.textContent);
    data.charts.forEach(function (spec) {
      const el = document.getElementById(spec.id);
      if (!el) { return; }
      const chart = echarts.init(el, null, { renderer: "canvas" });
      const opacity = [0.45, 1, 0.7];
      chart.setOption({
        title: { text: spec.title, left: 8, top: 4, textStyle: { fontSize: 13, fontWeight: 600 } },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: pct },
        legend: { top: 26, itemWidth: 12, itemHeight: 10, textStyle: { fontSize: 12 } },
        grid: { left: 40, right: 12, top: 60, bottom: 24, containLabel: true },
        xAxis: { type: "category", data: spec.names, axisLabel: { interval: 0, fontSize: 12, hideOverlap: true } },
        yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
        series: spec.series.map(function (s, i) {
          return {
            name: s.name,
            type: "bar",
            barMaxWidth: 22,
            cursor: "pointer",
            itemStyle: {
              opacity: opacity[i] || 1,
              color: function (p) { return p.value !== null && p.value < 0 ? DOWN : UP; },
            },
            data: s.data,
          };
        }),
        color: [UP, UP, UP],
      });
      chart.on("click", function (params) {
        const url = spec.urls[params.dataIndex];
        if (url) { window.location.assign(url); }
      });
      el.dataset.ready = "1";
      charts.push(chart);
    });
  }

  const pathBlock = document.getElementById("path-data");
  const pathEl = document.getElementById("chart-path");
  if (pathBlock && pathEl) {
    const d = JSON.parse(pathBlock.textContent);
    const chart = echarts.init(pathEl, null, { renderer: "canvas" });
    const markLines = [];
    if (d.lines.target !== undefined) {
      markLines.push({ yAxis: d.lines.target, name: d.labels.target, lineStyle: { color: UP, type: "dashed" }, label: { formatter: d.labels.target + " {c}%", position: "insideEndTop" } });
    }
    if (d.lines.stop !== undefined) {
      markLines.push({ yAxis: d.lines.stop, name: d.labels.stop, lineStyle: { color: DOWN, type: "dashed" }, label: { formatter: d.labels.stop + " {c}%", position: "insideEndBottom" } });
    }
    d.marks.forEach(function (m) {
      markLines.push({ xAxis: m.day, name: m.n + "日", lineStyle: { color: "#8a8f98", type: "dotted" }, label: { formatter: m.n + "日", position: "end" } });
    });
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: pct },
      legend: { top: 4, textStyle: { fontSize: 12 } },
      grid: { left: 48, right: 80, top: 40, bottom: 48, containLabel: true },
      xAxis: { type: "category", data: d.dates, boundaryGap: false, axisLabel: { fontSize: 11 } },
      // keep the target and stop-loss lines inside the axis even when the price never came near them
      yAxis: {
        type: "value",
        axisLabel: { formatter: "{value}%" },
        min: function (v) { return Math.floor(Math.min(v.min, d.lines.stop === undefined ? v.min : d.lines.stop) - 1); },
        max: function (v) { return Math.ceil(Math.max(v.max, d.lines.target === undefined ? v.max : d.lines.target) + 1); },
      },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
      series: [
        {
          name: d.security_name, type: "line", data: d.security, showSymbol: false,
          lineStyle: { width: 2, color: "#2f62c9" }, itemStyle: { color: "#2f62c9" },
          markLine: { symbol: "none", silent: true, data: markLines },
        },
        {
          name: d.benchmark_name, type: "line", data: d.benchmark, showSymbol: false,
          lineStyle: { width: 1.5, color: "#e89a2c" }, itemStyle: { color: "#e89a2c" },
        },
      ],
    });
    pathEl.dataset.ready = "1";
    charts.push(chart);
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
