// 开发报表: draws the funnel, the partner bars and the by-source / by-segment stage bars from the JSON
// block rendered by json_script (no inline scripts under the CSP). A click opens the prospects behind it.
(function () {
  "use strict";
  const source = document.getElementById("report-data");
  if (!source || typeof echarts === "undefined") { return; }
  const data = JSON.parse(source.textContent);
  const palette = ["#2f62c9", "#e89a2c", "#3aa57a", "#8a63d2", "#5bb5c9", "#8a8f98"];
  const charts = [];

  function init(id) {
    const el = document.getElementById(id);
    if (!el) { return null; }
    const chart = echarts.init(el, null, { renderer: "canvas" });
    charts.push(chart);
    el.dataset.ready = "1";
    return chart;
  }

  function listUrl(params) {
    const q = new URLSearchParams(Object.assign({ view: "all" }, params));
    return data.urls.list + "?" + q.toString();
  }

  const funnel = init("chart-funnel");
  if (funnel) {
    funnel.setOption({
      // one hue, lighter down the funnel (red/green carry up/down meaning on these screens)
      color: ["#1f4fa8", "#2f62c9", "#4f7fd8", "#729ae2", "#97b5eb", "#bccff3"],
      title: { text: data.titles.funnel, left: 8, top: 4, textStyle: { fontSize: 14, fontWeight: 600 } },
      tooltip: { trigger: "item", formatter: "{b}：{c} 人" },
      series: [{
        type: "funnel", sort: "none", left: "10%", width: "80%", top: 40, bottom: 10, minSize: "22%",
        label: { show: true, position: "inside", formatter: "{b} {c}", color: "#fff" },
        data: data.stages.map(function (name, i) { return { name: name, value: data.overall[i] }; }),
      }],
    });
  }

  function stageBars(id, title, rows, param) {
    const chart = init(id);
    if (!chart) { return; }
    chart.setOption({
      color: palette,
      title: { text: title, left: 8, top: 4, textStyle: { fontSize: 14, fontWeight: 600 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 28, itemWidth: 12, itemHeight: 10, textStyle: { fontSize: 12 } },
      grid: { left: 36, right: 12, top: 64, bottom: 24, containLabel: true },
      xAxis: { type: "category", data: data.stages, axisLabel: { interval: 0, fontSize: 12 } },
      yAxis: { type: "value", minInterval: 1 },
      series: rows.map(function (r) {
        return { name: r.name, type: "bar", barMaxWidth: 22, data: r.data, cursor: "pointer" };
      }),
    });
    chart.on("click", function (p) {
      const row = rows[p.seriesIndex];
      if (row) {
        const params = {};
        params[param] = row.key;
        window.location.assign(listUrl(params));
      }
    });
  }
  stageBars("chart-source", data.titles.source, data.by_source, "source");
  stageBars("chart-segment", data.titles.segment, data.by_segment, "segment");

  const partners = init("chart-partners");
  if (partners) {
    const p = data.partners;
    partners.setOption({
      color: ["#a9bde6", "#2f62c9", "#e89a2c"],
      title: { text: data.titles.partners, left: 8, top: 4, textStyle: { fontSize: 14, fontWeight: 600 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 28, itemWidth: 12, itemHeight: 10, textStyle: { fontSize: 12 } },
      grid: { left: 36, right: 36, top: 64, bottom: 24, containLabel: true },
      xAxis: { type: "category", data: p.names, axisLabel: { interval: 0, fontSize: 12, hideOverlap: true } },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", name: "万元", splitLine: { show: false } }],
      series: [
        { name: p.labels.referrals, type: "bar", barMaxWidth: 22, data: p.referrals, cursor: "pointer" },
        { name: p.labels.opened, type: "bar", barMaxWidth: 22, data: p.opened, cursor: "pointer" },
        { name: p.labels.assets, type: "line", yAxisIndex: 1, data: p.assets, cursor: "pointer" },
      ],
    });
    partners.on("click", function (params) {
      const id = p.ids[params.dataIndex];
      if (id) { window.location.assign(listUrl({ partner: id })); }
    });
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
