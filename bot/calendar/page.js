"use strict";
// The posts arrive as JSON in the page; this draws them in the browser's own zone, as a week or a month. Every
// value from the posts (captions above all) is set as text, never parsed as HTML.
const plan = JSON.parse(document.getElementById("plan").textContent);
const $ = (id) => document.getElementById(id);
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const statusWord = (status) => plan.statuses[status] || status;

// A day is the UTC midnight named by a date in the browser's zone: stepping by 24 hours from one never meets a
// DST change, and a post is on the day its instant has as a date in the zone.
const dateInZone = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "numeric", day: "numeric" });
function dayOf(instant) {
  const part = Object.fromEntries(dateInZone.formatToParts(instant).map(({ type, value }) => [type, Number(value)]));
  return new Date(Date.UTC(part.year, part.month - 1, part.day));
}
const addDays = (day, n) => new Date(day.getTime() + n * 86400000);
const mondayOf = (day) => addDays(day, -((day.getUTCDay() + 6) % 7));
const monthOf = (day, later = 0) => new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + later, 1));
const keyOf = (day) => day.toISOString().slice(0, 10); // YYYY-MM-DD

// Days are named in UTC (they are UTC midnights); instants in the browser's zone, the default.
const formatter = (options) => new Intl.DateTimeFormat(undefined, options).format;
const timeText = formatter({ hour: "2-digit", minute: "2-digit" });
const instantText = formatter({ weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const dayText = formatter({ weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
const monthText = formatter({ month: "long", year: "numeric", timeZone: "UTC" });

const posts = plan.posts
  .map((post) => ({ ...post, when: new Date(post.at) }))
  .map((post) => ({ ...post, day: keyOf(dayOf(post.when)) }))
  .sort((a, b) => a.when - b.when);
const today = dayOf(new Date(plan.now));
// `focus` is a day: the week or the month shown is the one holding it.
const state = { view: "week", focus: today, account: "", status: "", channel: "" };

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
}

function fill(select, choices) {
  for (const [value, text] of [...choices].sort((a, b) => a[1].localeCompare(b[1]))) {
    const option = element("option", "", text);
    option.value = value;
    select.append(option);
  }
}
fill($("account"), new Map(posts.map((p) => [p.accountId, p.account])));
fill($("status"), new Map(posts.map((p) => [p.status, statusWord(p.status)])));
fill($("channel"), new Map(posts.map((p) => [p.channel, "#" + p.channel])));
$("zone").textContent = zone;
$("window").textContent = `This link shows posts from ${dayText(dayOf(new Date(plan.from)))} to ` +
  `${dayText(dayOf(new Date(plan.until)))}, and works until ${instantText(new Date(plan.expires))}.`;

function shown() {
  return posts.filter((p) =>
    (!state.account || p.accountId === state.account) &&
    (!state.status || p.status === state.status) &&
    (!state.channel || p.channel === state.channel));
}

function card(post) {
  const box = element("article", "card s-" + post.status);
  box.dataset.status = post.status;
  const time = element("time", "time", timeText(post.when));
  time.dateTime = post.at;
  const head = element("div", "head");
  head.append(time, " ", element("span", "account", post.account));
  box.append(head);
  if (post.image) {
    const image = element("img");
    image.src = post.image;
    image.alt = ""; // the caption says what the post is
    image.loading = "lazy";
    box.append(image);
  }
  const meta = element("div", "meta");
  meta.append(element("span", "status", statusWord(post.status)), ` · #${post.request} · ${post.author} · #${post.channel}`);
  box.append(element("p", "caption", post.caption || "(no caption)"), meta);
  return box;
}

function draw() {
  const week = state.view === "week";
  const first = mondayOf(week ? state.focus : monthOf(state.focus));
  const last = week ? addDays(first, 6) : addDays(mondayOf(addDays(monthOf(state.focus, 1), -1)), 6);
  const byDay = new Map();
  for (const post of shown()) byDay.set(post.day, [...(byDay.get(post.day) || []), post]);
  const grid = element("div", "grid " + state.view);
  for (let day = first; day <= last; day = addDays(day, 1)) {
    const cell = element("section", "day");
    cell.dataset.day = keyOf(day);
    if (!week && day.getUTCMonth() !== state.focus.getUTCMonth()) cell.classList.add("other");
    if (keyOf(day) === keyOf(today)) {
      cell.classList.add("today");
      cell.setAttribute("aria-current", "date");
    }
    cell.append(element("h2", "", dayText(day)));
    const here = byDay.get(keyOf(day)) || [];
    if (!here.length && week) cell.append(element("p", "empty", "Nothing scheduled"));
    cell.append(...here.map(card));
    grid.append(cell);
  }
  $("calendar").replaceChildren(grid);
  $("range").textContent = week ? `${dayText(first)} – ${dayText(last)}` : monthText(monthOf(state.focus));
  $("previous").setAttribute("aria-label", `Previous ${state.view}`);
  $("next").setAttribute("aria-label", `Next ${state.view}`);
}

function move(direction) {
  state.focus = state.view === "week" ? addDays(state.focus, 7 * direction) : monthOf(state.focus, direction);
  draw();
}
$("previous").addEventListener("click", () => move(-1));
$("next").addEventListener("click", () => move(1));
$("today").addEventListener("click", () => { state.focus = today; draw(); });
for (const name of ["view", "account", "status", "channel"]) {
  $(name).addEventListener("change", (event) => {
    state[name] = event.target.value;
    // Back from paging months, the week shown is today's when today is in the month shown.
    if (name === "view" && keyOf(monthOf(state.focus)) === keyOf(monthOf(today))) state.focus = today;
    draw();
  });
}
draw();
