/* Insyn dashboard: what a screen reader and a keyboard need that Dash 4's components do not give
   (axe-core checks each page in tests/browser/test_axe.py). Served from this server like the CSS;
   no inline script (the page's Content-Security-Policy allows none but Dash's own).

   - <html lang> follows the language switch (the clientside callback in app.py).
   - Each menu (dcc.Dropdown) is reached with Tab on its own button: the hidden input Dash puts
     before it for Safari is focusable yet aria-hidden, and style.css hides it.
   - The language switch (dcc.RadioItems) is a group of radio buttons named by #lang-label, not a
     listbox of options each holding a radio button (nested controls).
   - A table that scrolls can be scrolled with the keyboard (tabindex).
   - Every chart has a text alternative: a visually hidden table of the figure's own data, made
     again each time plotly draws it (its caption is the figure's title, its headings the axes'
     titles and the series' names, all in the page's language; the cells are the data's).
*/
(function () {
    "use strict";
    var SHOWN = ["sv", "en"];

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        insyn: {
            setLanguage: function (lang) {
                var tag = SHOWN.indexOf(lang) >= 0 ? lang : "en";
                document.documentElement.setAttribute("lang", tag);
                return tag;
            }
        }
    });

    function fixMenus(root) {
        root.querySelectorAll("button.dash-dropdown[tabindex='-1']:not([disabled])").forEach(function (button) {
            button.setAttribute("tabindex", "0");
        });
    }

    function fixRadioGroups(root) {
        root.querySelectorAll(".dash-radioitems[role='listbox']").forEach(function (group) {
            group.setAttribute("role", "radiogroup");
            if (group.id === "lang") {
                group.setAttribute("aria-labelledby", "lang-label");
            }
        });
        root.querySelectorAll(".dash-radioitems [role='option']").forEach(function (option) {
            option.removeAttribute("role");
        });
        root.querySelectorAll(".dash-radioitems [aria-selected]").forEach(function (option) {
            option.removeAttribute("aria-selected");   // React sets it again on a change: removed again
        });
    }

    function fixScrollingTables(root) {
        root.querySelectorAll(".table-wrap:not([tabindex])").forEach(function (wrap) {
            wrap.setAttribute("tabindex", "0");
        });
    }

    // plotly's text is its own HTML: the figures escape the data (figures._esc) and add <br>, <b>
    function plain(value) {
        if (value === null || value === undefined) {
            return "";
        }
        var text = String(value).replace(/<br\s*\/?>/gi, " ").replace(/<[^>]*>/g, "");
        return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
            .replace(/&#x27;|&#39;/g, "'").replace(/&amp;/g, "&").trim();
    }

    function titleOf(part) {
        if (!part || !part.title) {
            return "";
        }
        return plain(typeof part.title === "string" ? part.title : part.title.text);
    }

    function cell(tag, text, fromData) {
        var el = document.createElement(tag);
        el.textContent = text;
        if (fromData) {
            el.setAttribute("data-value", "");   // the data's words, not the catalog's
        }
        return el;
    }

    var made = 0;

    function describe(gd) {
        // titles from the figure as given (plotly fills an empty one with "Click to enter ... title"),
        // axis types as plotly resolved them
        var layout = gd.layout || {}, full = gd._fullLayout || layout;
        var traces = (gd.data || []).filter(function (trace) {
            return trace.visible !== false;
        });
        var byY = function (trace) {
            var xType = (full.xaxis || {}).type, yType = (full.yaxis || {}).type;
            return trace.orientation === "h" || (trace.type === "scatter" && yType === "category" && xType !== "category");
        };
        // in a hidden box of its own: a table is as wide as its cells, whatever width it is given
        var box = gd.parentNode.querySelector(":scope > .chart-data");
        if (!box) {
            box = document.createElement("div");
            box.className = "chart-data visually-hidden";
            box.id = "chart-data-" + (++made);
            gd.parentNode.insertBefore(box, gd.nextSibling);
        }
        var table = document.createElement("table");
        box.replaceChildren(table);
        var caption = document.createElement("caption");
        caption.id = box.id + "-caption";
        caption.textContent = titleOf(layout);
        table.appendChild(caption);
        var first = traces[0];
        if (first) {
            var categoryAxis = byY(first) ? layout.yaxis : layout.xaxis;
            var valueAxis = byY(first) ? layout.xaxis : layout.yaxis;
            var head = document.createElement("thead"), row = document.createElement("tr");
            [titleOf(categoryAxis), titleOf(valueAxis)].forEach(function (text) {
                row.appendChild(text ? cell("th", text) : document.createElement("td"));
            });
            head.appendChild(row);
            table.appendChild(head);
        }
        traces.forEach(function (trace) {
            var horizontal = byY(trace);
            var categories = (horizontal ? trace.y : trace.x) || trace.labels || [];
            var values = (horizontal ? trace.x : trace.y) || trace.values || [];
            var notes = Array.isArray(trace.hovertext) ? trace.hovertext : [];
            var body = document.createElement("tbody");
            var name = plain(trace.name);
            if (name) {
                var group = document.createElement("tr"), th = cell("th", name);
                th.setAttribute("colspan", "2");
                th.setAttribute("scope", "rowgroup");
                group.appendChild(th);
                body.appendChild(group);
            }
            for (var i = 0; i < categories.length; i++) {
                var line = document.createElement("tr"), head = cell("th", plain(categories[i]), true);
                head.setAttribute("scope", "row");
                // a bar from a base (the request timeline) says its dates in its hover, not its length
                var value = trace.base !== undefined && notes[i] !== undefined ? "" : plain(values[i]);
                var note = notes[i] !== undefined ? plain(notes[i]) : "";
                line.appendChild(head);
                line.appendChild(cell("td", [value, note].filter(Boolean).join(" · "), true));
                body.appendChild(line);
            }
            table.appendChild(body);
        });
        gd.setAttribute("role", "figure");
        gd.setAttribute("aria-labelledby", caption.id);
        gd.querySelectorAll(".main-svg").forEach(function (svg) {
            svg.setAttribute("aria-hidden", "true");   // the table says it in order; the drawing's text jumbled
        });
    }

    function fixCharts(root) {
        root.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
            if (gd.dataset.insynDescribed || typeof gd.on !== "function") {
                return;
            }
            gd.dataset.insynDescribed = "1";
            gd.on("plotly_afterplot", function () {
                describe(gd);
            });
            describe(gd);
        });
    }

    function fix() {
        fixMenus(document);
        fixRadioGroups(document);
        fixScrollingTables(document);
        fixCharts(document);
    }

    var pending = false;
    new MutationObserver(function () {
        if (!pending) {
            pending = true;
            window.requestAnimationFrame(function () {
                pending = false;
                fix();
            });
        }
    }).observe(document.documentElement, {
        childList: true, subtree: true, attributes: true, attributeFilter: ["aria-selected", "role", "tabindex"]
    });
    document.addEventListener("DOMContentLoaded", fix);
})();
