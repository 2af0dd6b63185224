/** The page's shell and style: served from this package, nothing from another host. */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>roam</title>
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<header>
  <strong class="brand">roam</strong>
  <nav aria-label="pages">
    <a href="#/devices">Devices</a>
    <a href="#/sessions">Sessions</a>
    <a href="#/folders">Folders</a>
    <a href="#/conflicts">Conflicts</a>
    <a href="#/trash">Trash</a>
    <a href="#/pair">Pair a device</a>
  </nav>
  <span id="daemon" role="status"></span>
</header>
<main id="main" tabindex="-1"></main>
<div id="note" role="status" aria-live="polite"></div>
</body>
</html>
`;

export const STYLE = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4a4a4a; --line: #c8c8c8; --accent: #0b57d0; --bad: #a50e0e; --good: #146c2e; --bg2: #f3f4f6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #fff; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); background: var(--bg2); flex-wrap: wrap; }
.brand { font-size: 1.2rem; }
nav { display: flex; gap: 1rem; flex-wrap: wrap; }
nav a { color: var(--accent); text-decoration: none; padding: .2rem .3rem; border-radius: 4px; }
nav a[aria-current="page"] { background: var(--accent); color: #fff; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #e37400; outline-offset: 2px; }
main { padding: 1rem 1.2rem; max-width: 1200px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
.filters { display: flex; gap: .8rem; flex-wrap: wrap; margin-bottom: .8rem; align-items: end; }
label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: .2rem; }
label.inline { flex-direction: row; align-items: center; gap: .4rem; color: var(--fg); font-size: 1rem; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid #767676; border-radius: 4px; background: #fff; color: var(--fg); }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.on { color: var(--good); font-weight: 600; }
.off { color: var(--bad); font-weight: 600; }
.muted { color: var(--muted); }
progress { width: 12rem; height: 1rem; }
.bar { display: flex; gap: .5rem; align-items: center; }
.bar span { width: 3rem; font-size: .85rem; color: var(--muted); }
.turn { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .8rem; margin: .6rem 0; }
.turn.user { background: #eef3fd; }
.turn h3 { margin: 0 0 .3rem; font-size: .85rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.turn p { margin: .3rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
pre { background: #1e1e1e; color: #f0f0f0; padding: .6rem .8rem; border-radius: 4px; overflow-x: auto; }
pre code .kw { color: #7cc4ff; }
pre code .str { color: #f2c27a; }
pre code .com { color: #9fcf8f; }
details { margin: .3rem 0; }
summary { cursor: pointer; color: var(--muted); }
.actions { display: flex; gap: .6rem; flex-wrap: wrap; margin: .6rem 0; align-items: center; }
code.cmd { background: var(--bg2); padding: .15rem .35rem; border-radius: 3px; }
.code { font: 700 2rem/1.2 ui-monospace, monospace; letter-spacing: .05em; }
.qr svg { width: 240px; height: 240px; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.turn.common { border-left: 6px solid #8a8a8a; background: #f5f5f5; }
#note { position: fixed; bottom: 1rem; right: 1rem; background: var(--fg); color: #fff; padding: .4rem .8rem; border-radius: 4px; }
#note:empty { display: none; }
`;
