// Lianzheng's only script, and optional: pages work without it.
// - Draws each element with a data-chart attribute (an ECharts option built by the server; the
//   tables next to the charts carry the same figures).
// - Makes buttons marked data-print print the page (the notices at the window).
(function () {
  'use strict';
  function start() {
    document.querySelectorAll('[data-print]').forEach(function (b) {
      b.addEventListener('click', function () { window.print(); });
    });
    if (typeof echarts === 'undefined') return;
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      var chart = echarts.init(el, null, { renderer: 'svg' });
      chart.setOption(JSON.parse(el.getAttribute('data-chart')));
      el.setAttribute('data-drawn', '1');
      window.addEventListener('resize', function () { chart.resize(); });
    });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
