// The stepper page's script (viz/html.py inlines it). Reads the JSON in #data and the
// inline SVG; frame f < NF is the forward pass with f + 1 nodes computed, frame NF + b - 1
// the backward pass with b steps of the engine's walk done.
(function () {
  "use strict";
  var STRINGS = {
    en: {
      first: "|<", prev: "< prev", next: "next >", last: ">|", play: "play", pause: "pause",
      speed: "speed", perSecond: "steps/s",
      forward: "Forward pass", backward: "Backward pass", node: "node", step: "step",
      of: "of", op: "op", where: "where", shape: "shape", value: "value", grad: "gradient",
      leaf: "leaf (input or parameter)", none: "-",
      fwdNote: "the forward pass computes values; gradients come in the backward pass",
      notYet: "not complete yet: the walk has not reached this node",
      noGrad: "no gradient: not on a path to the loss",
      sent: "sent to its inputs",
      bpttTitle: "BPTT: the sum over k",
      bpttEmpty: "empty until the backward pass reaches the last step",
      term: "term", running: "running sum", min: "min", max: "max", mean: "mean",
      equal: "equals the engine's gradient (largest difference ",
      help: "\u2190 \u2192 step \u00b7 space play/pause \u00b7 Home/End first/last \u00b7 " +
        "click a node to jump to it. Fill = |grad| on a log scale (lighter = smaller); " +
        "grey = no gradient yet; blue outline = the current node."
    },
    zh: {
      first: "|<", prev: "< \u4e0a\u4e00\u6b65", next: "\u4e0b\u4e00\u6b65 >", last: ">|",
      play: "\u64ad\u653e", pause: "\u6682\u505c", speed: "\u901f\u5ea6",
      perSecond: "\u6b65/\u79d2",
      forward: "\u524d\u5411\u4f20\u64ad", backward: "\u53cd\u5411\u4f20\u64ad",
      node: "\u8282\u70b9", step: "\u6b65", of: "/", op: "\u8fd0\u7b97",
      where: "\u4f4d\u7f6e", shape: "\u5f62\u72b6", value: "\u6570\u503c",
      grad: "\u68af\u5ea6", leaf: "\u53f6\u5b50\uff08\u8f93\u5165\u6216\u53c2\u6570\uff09",
      none: "-",
      fwdNote: "\u524d\u5411\u4f20\u64ad\u53ea\u8ba1\u7b97\u6570\u503c\uff0c" +
        "\u68af\u5ea6\u5728\u53cd\u5411\u4f20\u64ad\u4e2d\u5f97\u5230",
      notYet: "\u5c1a\u672a\u5b8c\u6210\uff1a\u53cd\u5411\u4f20\u64ad\u8fd8\u6ca1" +
        "\u6709\u8d70\u5230\u8fd9\u4e2a\u8282\u70b9",
      noGrad: "\u6ca1\u6709\u68af\u5ea6\uff1a\u4e0d\u5728\u901a\u5411\u635f\u5931" +
        "\u7684\u8def\u5f84\u4e0a",
      sent: "\u4f20\u7ed9\u8f93\u5165\u7684\u68af\u5ea6",
      bpttTitle: "BPTT\uff1a\u5bf9 k \u6c42\u548c",
      bpttEmpty: "\u53cd\u5411\u4f20\u64ad\u8d70\u5230\u6700\u540e\u4e00\u4e2a" +
        "\u65f6\u523b\u65f6\u5f00\u59cb\u7d2f\u52a0",
      term: "\u9879", running: "\u7d2f\u8ba1\u548c",
      min: "\u6700\u5c0f", max: "\u6700\u5927", mean: "\u5e73\u5747",
      // where a node sits: "t = 2, layer 0, reverse" becomes "t = 2，第 0 层，反向"
      layer: "\u7b2c {} \u5c42", comma: "\uff0c",
      words: { forward: "\u6b63\u5411", reverse: "\u53cd\u5411", output: "\u8f93\u51fa",
        loss: "\u635f\u5931", input: "\u8f93\u5165" },
      equal: "\u7b49\u4e8e\u5f15\u64ce\u7b97\u51fa\u7684\u68af\u5ea6\uff08\u6700\u5927" +
        "\u5dee\u503c ",
      help: "\u2190 \u2192 \u5355\u6b65 \u00b7 \u7a7a\u683c \u64ad\u653e/\u6682\u505c \u00b7 " +
        "Home/End \u7b2c\u4e00\u6b65/\u6700\u540e\u4e00\u6b65 \u00b7 \u70b9\u51fb\u8282\u70b9" +
        "\u8df3\u5230\u8be5\u8282\u70b9\u3002\u586b\u5145\u8272 = |grad|\uff08\u5bf9\u6570" +
        "\u523b\u5ea6\uff0c\u8d8a\u6d45\u8d8a\u5c0f\uff09\uff1b\u7070\u8272 = \u8fd8\u6ca1\u6709" +
        "\u68af\u5ea6\uff1b\u84dd\u8272\u8fb9\u6846 = \u5f53\u524d\u8282\u70b9\u3002"
    }
  };
  var D = JSON.parse(document.getElementById("data").textContent);
  var S = STRINGS[D.lang] || STRINGS.en;
  var NF = D.forward.length, NB = D.backward.length, N = NF + NB;
  var PENDING_FILL = "#ececec", PENDING_TEXT = "#1a1a1a", PENDING_EDGE = "#c8c8c8";
  var DOTTED = "1,5";  // Graphviz's svg for style=dotted
  var svg = document.querySelector("#picture svg");
  var panel = document.getElementById("panel");
  var cur = 0, timer = null;

  function latest(list, pos) {
    // the frame (1-based) after which every node in `list` is there; null if one never is
    var m = 0;
    for (var k = 0; k < list.length; k++) {
      var p = pos(list[k]);
      if (p === null || p === undefined) return null;
      if (p > m) m = p;
    }
    return m;
  }
  function fwdOf(i) { return D.nodes[i].fwd; }
  function bwdOf(i) { return D.nodes[i].bwd; }

  var items = [], byNode = {};
  svg.querySelectorAll("g.node").forEach(function (g) {
    var title = g.querySelector("title");
    var info = title && D.items[title.textContent];
    if (!info) return;
    var used = info.kind === "ghost" ? info.uses : info.members;
    // an item appears with its first node (a ghost with the first use of its parameter)
    var appear = Math.min.apply(null, (info.kind === "ghost" ? info.uses : info.members)
      .map(fwdOf).concat([NF]));
    var it = {
      g: g, info: info, appear: appear, done: latest(used, bwdOf),
      shapes: g.querySelectorAll("path, polygon, ellipse"), texts: g.querySelectorAll("text")
    };
    items.push(it);
    info.members.forEach(function (m) { (byNode[m] = byNode[m] || []).push(it); });
    g.addEventListener("click", function () { jumpTo(it); });
  });
  var edges = [];
  svg.querySelectorAll("g.edge").forEach(function (g) {
    var title = g.querySelector("title");
    var consumers = title && D.edges[title.textContent];
    if (!consumers) return;
    edges.push({
      g: g, appear: latest(consumers, fwdOf), done: latest(consumers, bwdOf),
      lines: g.querySelectorAll("path, polygon")
    });
  });

  function paintNode(it, state) {
    // state: "unborn", "plain" (value only), "pending" (no gradient yet) or "done"
    it.g.classList.toggle("unborn", state === "unborn");
    var recolour = it.info.kind !== "op" && it.info.kind !== "input";
    var fill = "", text = "";
    if (recolour && state === "plain") { fill = "#ffffff"; text = PENDING_TEXT; }
    if (recolour && state === "pending") { fill = PENDING_FILL; text = PENDING_TEXT; }
    // a dotted border means "gradient exactly 0": until the gradient is there, the border
    // a node would have without it (dashed for a parameter)
    var before = it.info.kind === "param" || it.info.kind === "ghost" ? "5,2" : "none";
    it.shapes.forEach(function (s) {
      if (s.getAttribute("fill") !== "none") s.style.fill = fill;
      if (s.getAttribute("stroke-dasharray") === DOTTED) {
        s.style.strokeDasharray = state === "done" ? "" : before;
      }
    });
    it.texts.forEach(function (t) {
      t.style.fill = text;
      // the |grad| printed in the picture is only there once the gradient is
      if (t.dataset.full === undefined) t.dataset.full = t.textContent;
      t.textContent = state === "done" ? t.dataset.full
        : t.dataset.full.replace(/\s*\|grad\|.*$/, "");
    });
  }
  function paintEdge(e, state) {
    e.g.classList.toggle("unborn", state === "unborn");
    var grey = state === "plain" || state === "pending";
    e.lines.forEach(function (s) {
      s.style.stroke = grey ? PENDING_EDGE : "";
      s.style.strokeWidth = grey ? "1" : "";
      if (s.getAttribute("stroke-dasharray") === DOTTED) s.style.strokeDasharray = grey ? "none" : "";
      if (s.tagName === "polygon") s.style.fill = grey ? PENDING_EDGE : "";
    });
  }

  function phase(f) {
    return f < NF ? { fwd: true, k: f + 1 } : { fwd: false, k: f - NF + 1 };
  }
  function currentNode(f) {
    var p = phase(f);
    return p.fwd ? D.forward[p.k - 1] : D.backward[p.k - 1];
  }

  function show(f) {
    cur = Math.max(0, Math.min(N - 1, f));
    var p = phase(cur);
    items.forEach(function (it) {
      var state;
      if (p.fwd) state = it.appear !== null && it.appear > p.k ? "unborn" : "plain";
      else if (it.done === null) state = "done";
      else state = it.done <= p.k ? "done" : "pending";
      paintNode(it, state);
      it.g.classList.remove("current");
    });
    edges.forEach(function (e) {
      var state;
      if (p.fwd) state = e.appear !== null && e.appear > p.k ? "unborn" : "plain";
      else state = e.done === null || e.done <= p.k ? "done" : "pending";
      paintEdge(e, state);
    });
    var node = currentNode(cur);
    (byNode[node] || []).forEach(function (it) {
      it.g.classList.add("current");
      if (it.info.kind !== "op") scrollToItem(it.g);
    });
    document.getElementById("scrub").value = cur;
    document.getElementById("status").textContent =
      (p.fwd ? S.forward + ": " + S.node + " " + p.k + " " + S.of + " " + NF
        : S.backward + ": " + S.step + " " + p.k + " " + S.of + " " + NB);
    panel.innerHTML = describe(node, p);
  }

  function scrollToItem(g) {
    var box = g.getBoundingClientRect(), view = document.getElementById("picture");
    var outer = view.getBoundingClientRect();
    if (box.left < outer.left || box.right > outer.right || box.top < outer.top ||
        box.bottom > outer.bottom) {
      view.scrollLeft += box.left - outer.left - outer.width / 2 + box.width / 2;
      view.scrollTop += box.top - outer.top - outer.height / 2 + box.height / 2;
    }
  }

  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function numbers(x) {
    if (!x) return "<span class='muted'>" + S.none + "</span>";
    var out = "|\u00b7| = " + esc(x.norm);
    if (x.entries !== undefined) out += "<pre>" + esc(x.entries) + "</pre>";
    else if (x.stats) out += "<br><span class='muted'>" + esc(S.min) + " " + x.stats[0] +
      ", " + esc(S.max) + " " + x.stats[1] + ", " + esc(S.mean) + " " + x.stats[2] + "</span>";
    return out;
  }
  function place(where) {
    if (!S.words) return where;
    return where.split(", ").map(function (part) {
      var m = /^layer (\d+)$/.exec(part);
      return m ? S.layer.replace("{}", m[1]) : S.words[part] || part;
    }).join(S.comma);
  }
  function row(name, html) { return "<tr><td>" + esc(name) + "</td><td>" + html + "</td></tr>"; }

  function describe(i, p) {
    var n = D.nodes[i], html = "";
    html += "<div class='phase" + (p.fwd ? "" : " backward") + "'>" +
      esc(p.fwd ? S.forward : S.backward) + "</div>";
    html += "<h2 id='node-name'>" + esc(n.name) + "</h2>";
    if (n.label && n.label !== n.name) html += "<div class='muted'>" + esc(n.label) + "</div>";
    if (n.formula) html += "<div class='formula'>" + esc(n.formula) + "</div>";
    html += "<table>";
    html += row(S.op, n.op ? esc(n.op) : esc(S.leaf));
    html += row(S.where, n.where ? esc(place(n.where)) : S.none);
    html += row(S.shape, "(" + n.shape.join(", ") + ")");
    html += row(S.value, numbers(n.value));
    var g;
    if (p.fwd) g = "<span class='muted'>" + esc(S.fwdNote) + "</span>";
    else if (n.bwd === null) g = "<span class='muted'>" + esc(S.noGrad) + "</span>";
    else if (n.bwd > p.k) g = "<span class='muted'>" + esc(S.notYet) + "</span>";
    else g = numbers(n.grad);
    html += row(S.grad, g);
    html += "</table>";
    return html + bptt(p);
  }

  function bptt(p) {
    var B = D.bptt;
    if (!B) return "";
    var html = "<h3>" + esc(S.bpttTitle) + "</h3><div class='formula'>d" + esc(B.root) + "/d" +
      esc(B.name) + " = \u03a3<sub>k</sub> term<sub>k</sub></div>";
    var at = p.fwd ? 0 : p.k, last = null, list = "";
    B.additions.forEach(function (a) {
      var added = a.at <= at;
      if (added) last = a;
      var k = a.k === null ? "-" : a.k;
      list += "<li class='" + (added ? (a.at === at ? "new" : "") : "pending") + "'>" +
        esc(S.term) + " k = " + k + (added ? ": |term| = " + esc(a.term.norm) : "") + "</li>";
    });
    html += "<ol id='bptt-terms'>" + list + "</ol>";
    if (!last) return html + "<div class='muted'>" + esc(S.bpttEmpty) + "</div>";
    html += "<div id='bptt-sum'>" + esc(S.running) + ": " + numbers(last.sum) + "</div>";
    if (last === B.additions[B.additions.length - 1]) {
      html += "<div class='ok'>= " + esc(B.name) + ".grad: " + esc(S.equal) + B.error + ")</div>";
    }
    return html;
  }

  function jumpTo(it) {
    stop();
    var p = phase(cur);
    if (p.fwd && it.appear !== null && it.appear > 0) show(it.appear - 1);
    else if (!p.fwd && it.done !== null) show(NF + it.done - 1);
  }
  function speed() { return Number(document.getElementById("speed").value); }
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    var b = document.getElementById("play");
    b.textContent = S.play;
    b.classList.remove("playing");
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (cur >= N - 1) show(0);
    var b = document.getElementById("play");
    b.textContent = S.pause;
    b.classList.add("playing");
    timer = setInterval(function () {
      if (cur >= N - 1) { stop(); return; }
      show(cur + 1);
    }, 1000 / speed());
  }
  function restartIfPlaying() { if (timer !== null) { stop(); play(); } }

  document.querySelectorAll("[data-t]").forEach(function (el) {
    el.textContent = S[el.getAttribute("data-t")];
  });
  document.getElementById("help").textContent = S.help;
  function showSpeed() {
    document.getElementById("speed-value").textContent = speed() + " " + S.perSecond;
  }
  showSpeed();
  var scrub = document.getElementById("scrub");
  scrub.max = N - 1;
  scrub.addEventListener("input", function () { stop(); show(Number(scrub.value)); });
  document.getElementById("speed").addEventListener("input", function () {
    showSpeed(); restartIfPlaying();
  });
  document.getElementById("next").addEventListener("click", function () { stop(); show(cur + 1); });
  document.getElementById("prev").addEventListener("click", function () { stop(); show(cur - 1); });
  document.getElementById("first").addEventListener("click", function () { stop(); show(0); });
  document.getElementById("last").addEventListener("click", function () { stop(); show(N - 1); });
  document.getElementById("play").addEventListener("click", play);
  document.addEventListener("keydown", function (ev) {
    var tag = ev.target && ev.target.tagName;
    if (tag === "INPUT" || (tag === "BUTTON" && ev.key === " ")) return;  // their own keys
    if (ev.key === "ArrowRight") { stop(); show(cur + 1); }
    else if (ev.key === "ArrowLeft") { stop(); show(cur - 1); }
    else if (ev.key === "Home") { stop(); show(0); }
    else if (ev.key === "End") { stop(); show(N - 1); }
    else if (ev.key === " ") { play(); }
    else return;
    ev.preventDefault();
  });
  show(0);
})();
