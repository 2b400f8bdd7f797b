// reloadmw's live reload: this page reloads itself once the server's new code answers.
// Added by reloadmw's middleware (live_reload); see its documentation's live-reload page.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__reloadmw) {
    return; // one per page, even when a fragment brings the tag again
  }
  window.__reloadmw = true;
  var built = (me.getAttribute("data-reloadmw") || "0.0.").split(".");
  var generation = built[0];
  var version = built[1];
  var broken = built[2] || "";
  var poll = me.src.replace(/live\.js(\?.*)?$/, "poll");
  var place = "reloadmw-scroll:" + location.pathname + location.search;
  var timer = 0;
  var failures = 0;

  function restoreScroll() {
    var saved = null;
    try {
      saved = sessionStorage.getItem(place);
      sessionStorage.removeItem(place);
    } catch (e) {
      return;
    }
    if (!saved) {
      return;
    }
    var xy = saved.split(",");
    var back = function () {
      window.scrollTo(Number(xy[0]), Number(xy[1]));
    };
    back();
    window.addEventListener("load", back);
  }

  function reload() {
    try {
      sessionStorage.setItem(place, window.scrollX + "," + window.scrollY);
    } catch (e) {
      // no storage: the browser's own scroll restoration still applies
    }
    location.reload();
  }

  function swapStylesheets(stamp) {
    var links = document.querySelectorAll('link[rel~="stylesheet"][href]');
    Array.prototype.forEach.call(links, function (link) {
      var url = new URL(link.href, location.href);
      if (url.origin !== location.origin) {
        return;
      }
      url.searchParams.set("reloadmw", stamp);
      var fresh = link.cloneNode(false);
      fresh.href = url.href;
      var done = function () {
        link.remove();
      };
      fresh.addEventListener("load", done);
      fresh.addEventListener("error", done);
      link.after(fresh);
    });
  }

  function later(ms) {
    clearTimeout(timer);
    timer = setTimeout(ask, ms);
  }

  function period() {
    return document.visibilityState === "hidden" ? 10000 : 1000;
  }

  function ask() {
    var controller = new AbortController();
    var limit = setTimeout(function () {
      controller.abort();
    }, 10000);
    var url = poll + "?g=" + generation + "&v=" + version + "&b=" + broken;
    fetch(url, { cache: "no-store", credentials: "same-origin", signal: controller.signal })
      .then(function (response) {
        return response.ok ? response.json() : { wait: true };
      })
      .then(
        function (answer) {
          clearTimeout(limit);
          failures = 0;
          if (answer.reload) {
            reload();
            return;
          }
          if (answer.css) {
            version = String(answer.version);
            swapStylesheets(version);
          }
          later(answer.wait ? 200 : period());
        },
        function () {
          // The server restarts, or is gone for now: ask again, quietly, a little later.
          clearTimeout(limit);
          failures += 1;
          later(Math.min(200 * failures, 2000));
        }
      );
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      later(0);
    }
  });
  restoreScroll();
  later(period());
})();
