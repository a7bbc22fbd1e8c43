package web

// pageHTML is the player page. {{TITLE}} is HTML-escaped; {{MODE}} is "3"
// or "4"; {{SETUP_ATTR}} hides the Setup button in three-button mode.
//
// The page fetches frames one at a time with GET /frame (a long poll), so a
// slow browser simply skips frames; it shows each through an object URL and
// records its index in the img's data-frame attribute.
const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{TITLE}}</title>
<style>
body { margin: 0; padding: 12px; background: #141414; color: #ddd;
  font: 14px system-ui, sans-serif; display: flex; flex-direction: column; align-items: center; gap: 8px; }
h1 { font-size: 16px; font-weight: 600; margin: 0; }
#screen { background: #000; min-width: 320px; min-height: 240px; display: flex;
  align-items: center; justify-content: center; }
#video { display: block; max-width: 96vw; max-height: 70vh; }
#video:not([src]) { visibility: hidden; }
#buttons { display: flex; gap: 8px; }
button { font: inherit; padding: 6px 18px; border: 1px solid #555; border-radius: 4px;
  background: #2a2a2a; color: #eee; cursor: pointer; }
button:hover { background: #3a3a3a; }
button:active { background: #4a4a4a; }
#seekrow { display: flex; gap: 8px; align-items: center; width: min(640px, 96vw); font-variant-numeric: tabular-nums; }
#seek { flex: 1; }
#error { color: #ff6b6b; min-height: 1.3em; text-align: center; }
#stats { font: 12px ui-monospace, monospace; color: #9c9; white-space: pre; text-align: center; }
[hidden] { display: none !important; }
</style>
</head>
<body data-mode="{{MODE}}">
<h1>{{TITLE}}</h1>
<div id="screen"><img id="video" alt="video" data-frame="-1"></div>
<div id="seekrow" hidden><span id="position">0:00</span><input type="range" id="seek" min="0" max="0" step="0.1" value="0"><span id="duration">0:00</span></div>
<div id="buttons">
<button id="setup" type="button"{{SETUP_ATTR}}>Setup</button>
<button id="play" type="button">Play</button>
<button id="pause" type="button">Pause</button>
<button id="teardown" type="button">Teardown</button>
</div>
<div id="error" role="alert"></div>
<div id="stats">no statistics yet</div>
<script>
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const video = $("video"), errorLine = $("error"), stats = $("stats");
  const seek = $("seek"), seekRow = $("seekrow");
  const three = document.body.dataset.mode === "3";
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function command(name, query) {
    errorLine.textContent = "";
    try {
      const r = await fetch("control/" + name + (query || ""), { method: "POST" });
      if (!r.ok) {
        const text = (await r.text()).trim();
        errorLine.textContent = text || (r.status + " " + r.statusText);
      }
    } catch (e) {
      errorLine.textContent = name + ": " + e.message;
    }
    refreshStats();
  }
  $("setup").addEventListener("click", () => command("setup"));
  $("play").addEventListener("click", () => command("play", three ? "?autosetup=1" : ""));
  $("pause").addEventListener("click", () => command("pause"));
  $("teardown").addEventListener("click", () => command("teardown"));

  let dragging = false;
  seek.addEventListener("input", () => { dragging = true; $("position").textContent = clock(+seek.value); });
  // The bar stays where it was let go until the seek is answered, then
  // follows the position the player reports (where the server's answer
  // put the frames), so it does not snap back in between.
  seek.addEventListener("change", async () => {
    await command("seek", "?to=" + (+seek.value).toFixed(3));
    dragging = false;
    refreshStats();
  });

  function clock(s) {
    s = Math.max(0, Math.floor(s || 0));
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = String(s % 60).padStart(2, "0");
    return h > 0 ? h + ":" + String(m).padStart(2, "0") + ":" + sec : m + ":" + sec;
  }
  const num = (x, digits) => (+x || 0).toFixed(digits);

  function showStats(s) {
    const r = s.receiver || {};
    const lost = Math.max(0, r.packets_lost || 0);
    const packets = (r.packets_received || 0) + lost;
    stats.textContent =
      (s.state || "-").toUpperCase() + "  " + num(s.fps, 1) + " frames/s  " + num(s.kbit_per_s, 0) + " kbit/s\n" +
      "packets lost " + lost + " of " + packets + " (" + num(r.loss_percent, 2) + " %)  " +
      "jitter " + num(r.jitter_ms, 1) + " ms\n" +
      "frames " + (s.frames || 0) + "  frames dropped " + (s.frames_dropped || 0) +
      "  duplicates " + (r.duplicates || 0) + "  late " + (r.late || 0) + "  reordered " + (r.reordered || 0) +
      (s.time_to_first_frame_ms > 0 ? "  first frame after " + num(s.time_to_first_frame_ms, 0) + " ms" : "");
    const known = s.duration_s > 0;
    seekRow.hidden = !known;
    if (known && !dragging) {
      seek.max = String(s.duration_s);
      seek.value = String(s.position_s || 0);
      $("position").textContent = clock(s.position_s);
      // Looping media: the server repeats it; the position is within one pass.
      $("duration").textContent = clock(s.duration_s) + (s.loop ? " \u21bb" : "");
    }
  }

  let fetchingStats = false;
  async function refreshStats() {
    if (fetchingStats) return;
    fetchingStats = true;
    try {
      const r = await fetch("stats", { cache: "no-store" });
      if (r.ok) showStats(await r.json());
    } catch (e) {
      stats.textContent = "display server unreachable";
    } finally {
      fetchingStats = false;
    }
  }
  refreshStats();
  setInterval(refreshStats, 500);

  async function frames() {
    let after = -1, seq = 0, shown = null;
    for (;;) {
      try {
        const r = await fetch("frame?after=" + after + "&seq=" + seq, { cache: "no-store" });
        if (r.status === 200) {
          const index = +r.headers.get("X-Frame-Index");
          const url = URL.createObjectURL(await r.blob());
          video.src = url;
          try { await video.decode(); } catch (e) { /* a broken JPEG: show the next */ }
          if (shown) URL.revokeObjectURL(shown);
          shown = url;
          after = index;
          seq = +r.headers.get("X-Frame-Seq");
          video.dataset.frame = String(index);
        } else if (r.status === 204) {
          // No new frame yet. A server newer than this page numbers from 0.
          const latest = +r.headers.get("X-Frame-Seq");
          if (latest < seq) { seq = 0; after = -1; }
        } else {
          await sleep(1000);
        }
      } catch (e) {
        await sleep(1000);
      }
    }
  }
  frames();
})();
</script>
</body>
</html>
`
