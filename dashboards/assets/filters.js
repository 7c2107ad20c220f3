/* Insyn dashboard: a filter chosen on the overview travels to its page in the shell's session store
   (app.py, #page-filter), never in the URL. A click on a queue item or a card of the overview puts
   the filter its link leads to in the store (the link itself navigates); the page's grid starts
   with it (components/grid.py) and shows it with a button that clears it; going to another page
   forgets it. Served from this server: the Content-Security-Policy allows no inline script. */
(function () {
    "use strict";

    function noUpdate() {
        return window.dash_clientside.no_update;
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        insyn_filter: {
            choose: function (clicks, targets) {
                var context = window.dash_clientside.callback_context;
                var id = context && context.triggered_id;
                var clicked = (clicks || []).some(function (n) { return n; });
                if (!id || !clicked || !targets || !Object.prototype.hasOwnProperty.call(targets, id.index)) {
                    return noUpdate();
                }
                return targets[id.index];
            },
            forget: function (pathname, chosen) {
                return chosen && chosen.path !== pathname ? null : noUpdate();
            },
            clear: function (clicks) {
                return clicks ? null : noUpdate();
            }
        }
    });
})();

/* The filtered list is what the person came for: when a page shows a filter chosen on the overview,
   its list is scrolled into view, and kept there while the page above it is still drawn (a chart
   grows when plotly draws it), until the person scrolls or types themselves. */
(function () {
    "use strict";
    var shown = null;
    var until = 0;
    ["wheel", "touchstart", "keydown"].forEach(function (name) {
        window.addEventListener(name, function () { until = 0; }, {passive: true});
    });
    new MutationObserver(function () {
        var banner = document.getElementById("filter-shown");
        if (banner && banner !== shown) {
            until = Date.now() + 5000;
        }
        shown = banner;
        if (banner && Date.now() < until) {
            var top = banner.getBoundingClientRect().top;
            if (top < 0 || top > window.innerHeight * 0.5) {
                banner.scrollIntoView({block: "center"});
            }
        }
    }).observe(document.documentElement, {childList: true, subtree: true, attributes: true});
})();
