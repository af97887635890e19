"use strict";
// The posts arrive as JSON in the page; this draws them in the browser's own zone. Captions are set as text only.
const plan = JSON.parse(document.getElementById("plan").textContent);
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const $ = (id) => document.getElementById(id);
const posts = plan.posts.map((p) => ({ ...p, when: new Date(p.at) }));

// The parts of a date in the browser's zone, as numbers: what day a post is on, there.
const partsFormat = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
const dayKey = (date) => partsFormat.format(date); // YYYY-MM-DD
const timeText = (date) => new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }).format(date);
const dayText = (date) => new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }).format(date);
const monthText = (date) => new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" }).format(date);

// Days are handled as UTC midnights named by their local date, so that adding days never crosses a DST change.
function asDay(date) { const [y, m, d] = dayKey(date).split("-").map(Number); return new Date(Date.UTC(y, m - 1, d)); }
function addDays(day, n) { return new Date(day.getTime() + n * 86400000); }
function mondayOf(day) { return addDays(day, -((day.getUTCDay() + 6) % 7)); }
const keyOf = (day) => day.toISOString().slice(0, 10);
// `focus` is a day, as above: the week or month shown is the one holding it.
const state = { view: "week", focus: asDay(new Date(plan.now)), account: "", status: "", channel: "" };

function fill(select, values, label) {
  for (const [value, text] of values) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label ? label(text) : text;
    select.append(option);
  }
}
fill($("account"), [...new Map(posts.map((p) => [p.accountId, p.account])).entries()].sort((a, b) => a[1].localeCompare(b[1])));
fill($("status"), [...new Set(posts.map((p) => p.status))].sort().map((s) => [s, plan.statuses[s] || s]));
fill($("channel"), [...new Set(posts.map((p) => p.channel))].sort().map((c) => [c, "#" + c]));
$("zone").textContent = zone;

function shown() {
  return posts.filter((p) =>
    (!state.account || p.accountId === state.account) &&
    (!state.status || p.status === state.status) &&
    (!state.channel || p.channel === state.channel));
}

function card(post) {
  const box = document.createElement("article");
  box.className = "card s-" + post.status;
  box.dataset.post = post.post || "";
  box.dataset.request = String(post.request);
  const head = document.createElement("div");
  const time = document.createElement("span");
  time.className = "time";
  time.textContent = timeText(post.when);
  head.append(time, " " + post.account);
  const caption = document.createElement("div");
  caption.className = "caption";
  caption.textContent = post.caption || "(no caption)";
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = `${plan.statuses[post.status] || post.status} · #${post.request} · ${post.author} · #${post.channel}`;
  box.append(head, caption, meta);
  if (post.image) {
    const image = document.createElement("img");
    image.src = post.image;
    image.alt = "";
    image.loading = "lazy";
    box.append(image);
  }
  return box;
}

function draw() {
  const focus = state.focus;
  const first = state.view === "week" ? mondayOf(focus) : mondayOf(new Date(Date.UTC(focus.getUTCFullYear(), focus.getUTCMonth(), 1)));
  const month = focus.getUTCMonth();
  const count = state.view === "week" ? 7 : 42;
  const byDay = new Map();
  for (const post of shown()) {
    const key = dayKey(post.when);
    if (!byDay.has(key)) byDay.set(key, []);
    byDay.get(key).push(post);
  }
  const grid = document.createElement("div");
  grid.className = "grid " + state.view;
  const today = keyOf(asDay(new Date(plan.now)));
  for (let n = 0; n < count; n++) {
    const day = addDays(first, n);
    const cell = document.createElement("section");
    cell.className = "day";
    cell.dataset.day = keyOf(day);
    if (state.view === "month" && day.getUTCMonth() !== month) cell.classList.add("other");
    if (keyOf(day) === today) cell.classList.add("today");
    const title = document.createElement("h2");
    title.textContent = dayText(day);
    cell.append(title);
    const here = (byDay.get(keyOf(day)) || []).sort((a, b) => a.when - b.when);
    if (!here.length) {
      const empty = document.createElement("div");
      empty.className = "empty";
      empty.textContent = "Nothing scheduled";
      cell.append(empty);
    }
    for (const post of here) cell.append(card(post));
    grid.append(cell);
  }
  $("calendar").replaceChildren(grid);
  $("range").textContent = state.view === "week"
    ? `${dayText(first)} – ${dayText(addDays(first, 6))}`
    : monthText(new Date(Date.UTC(focus.getUTCFullYear(), month, 1)));
}

function move(direction) {
  const focus = state.focus;
  state.focus = state.view === "week"
    ? addDays(focus, 7 * direction)
    : new Date(Date.UTC(focus.getUTCFullYear(), focus.getUTCMonth() + direction, 1));
  draw();
}
$("previous").addEventListener("click", () => move(-1));
$("next").addEventListener("click", () => move(1));
$("today").addEventListener("click", () => { state.focus = asDay(new Date(plan.now)); draw(); });
for (const name of ["view", "account", "status", "channel"]) {
  $(name).addEventListener("change", (event) => { state[name] = event.target.value; draw(); });
}
draw();
