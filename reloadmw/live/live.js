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
  // The newest generation this tab reloaded for: a page from an older process of the same
  // server (several processes, no shared stamp) does not reload again for it.
  var generation = newest(built[0], remembered());
  var version = built[1];
  var broken = built[2] || "";
  var poll = me.src.replace(/live\.js(\?.*)?$/, "poll");
  var place = "reloadmw-scroll:" + location.pathname + location.search;
  var timer = 0;
  var failures = 0;
  var waits = 0;

  function remembered() {
    try {
      return sessionStorage.getItem("reloadmw-generation") || "0";
    } catch (e) {
      return "0";
    }
  }

  function newest(a, b) {
    return BigInt(a) >= BigInt(b) ? a : b;
  }

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

  function reload(answer) {
    try {
      sessionStorage.setItem(place, window.scrollX + "," + window.scrollY);
      if (answer.generation) {
        sessionStorage.setItem("reloadmw-generation", newest(answer.generation, remembered()));
      }
    } catch (e) {
      // no storage: the browser's own scroll restoration still applies
    }
    location.reload();
    later(3000); // still here: the reload was cancelled (a "leave this page?" prompt)
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
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          return { stop: true }; // not reloadmw's answer (a proxy's?): ask no more
        }
        return response.ok ? response.json() : { wait: true };
      })
      .then(
        function (answer) {
          clearTimeout(limit);
          failures = 0;
          if (answer.stop) {
            return;
          }
          if (answer.reload) {
            reload(answer);
            return;
          }
          if (answer.css) {
            version = String(answer.version);
            swapStylesheets(version);
          }
          waits = answer.wait ? waits + 1 : 0;
          // A restart takes a second or so: after 10 s of waiting, ask at the usual pace.
          later(answer.wait && waits < 50 ? 200 : period());
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
