// Draws every [data-chart] element with ECharts (SVG renderer, page locale). The option is
// plain JSON in the <script type="application/json"> element named by data-chart; an element's
// data-chart-label, when given, replaces the generated text alternative.
(function () {
  "use strict";

  function locale() {
    return document.documentElement.dataset.chartLocale || "ZH";
  }

  function draw(el) {
    var source = document.getElementById(el.dataset.chart);
    if (!source || typeof echarts === "undefined") return;
    var option = JSON.parse(source.textContent);
    // The text alternative: ECharts describes the chart (title, series, figures) in the page's
    // language and puts it in the container's aria-label; the container is then one image.
    option.aria = Object.assign({ enabled: true }, option.aria || {});
    if (el.dataset.chartLabel) {
      option.aria.label = Object.assign({ description: el.dataset.chartLabel }, option.aria.label || {});
    }
    var old = echarts.getInstanceByDom(el);
    if (old) old.dispose();
    var chart = echarts.init(el, null, { renderer: "svg", locale: locale() });
    chart.setOption(option);
    el.setAttribute("role", "img");
    el.dataset.drawn = "1";
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = typeof echarts !== "undefined" && echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
})();
