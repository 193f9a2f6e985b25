// movierec's page: a personal MovieLens. Rate movies (half stars), hide what you will never
// watch, keep a watch list, see what your ratings say, get picks alone or for a movie night.
// Vanilla JS, same-origin JSON API only. Your profile's key is in an HttpOnly cookie this
// script never sees; every change sends the CSRF token the server gave (X-CSRF-Token).
"use strict";

const RECOMMENDATIONS = 10;
const SUGGESTIONS = 8;
const ONBOARDING = 10;
const LANGUAGE_KEY = "movierec.language";
const ONBOARDED_KEY = "movierec.onboarded";

const $ = (id) => document.getElementById(id);
const state = {
  session: null, // {profile, csrf, language, scale, min_rating}
  profile: null, // GET /api/profile
  stars: new Map(), // movie_id → stars
  hidden: new Set(),
  watch: new Set(),
  recs: [],
  recsNote: null,
  similar: null,
  similarOf: null,
  popular: [],
  onboarding: [],
  stats: null,
  guests: [],
  night: null,
  recsRequest: 0,
};

// ---- languages ----------------------------------------------------------------------------
const i18n = { language: "en", strings: {} };

function t(key, params = {}) {
  const text = i18n.strings[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

// "{count} ratings": the catalogue holds KEY.one and KEY.other (Korean says both alike).
function plural(key, count, params = {}) {
  const form = new Intl.PluralRules(i18n.language).select(count) === "one" ? "one" : "other";
  return t(`${key}.${form}`, { count: number().format(count), ...params });
}

function genreName(genre) {
  const key = `genre.${genre}`;
  return key in i18n.strings ? i18n.strings[key] : genre;
}

function number() {
  return new Intl.NumberFormat(i18n.language);
}

async function loadLanguage(language) {
  const response = await fetch(`/static/i18n-${language}.json`, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`no catalogue for ${language}`);
  i18n.strings = await response.json();
  i18n.language = language;
  document.documentElement.lang = language;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of document.querySelectorAll("[data-i18n-aria-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
  }
  for (const button of document.querySelectorAll(".lang")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === language));
  }
}

async function switchLanguage(language) {
  try {
    localStorage.setItem(LANGUAGE_KEY, language);
  } catch (_) {
    // storage refused: the choice lasts for this visit
  }
  await loadLanguage(language);
  renderEverything();
  if (state.popular.length) suggestTitles(state.popular);
  if (state.stats) showStats(state.stats);
}

// ---- the API --------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = "GET", body } = {}) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") options.headers["X-CSRF-Token"] = state.session ? state.session.csrf : "";
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    const detail = data && typeof data.detail === "string" ? data.detail : "";
    if (response.status === 429) throw new ApiError(t("error.slow_down"), 429);
    if (response.status === 401) throw new ApiError(t("error.no_profile"), 401);
    if (response.status === 403 && path.startsWith("/api/profile") && path !== "/api/profile/open") {
      throw new ApiError(t("error.forbidden"), 403);
    }
    throw new ApiError(detail || t("error.status", { status: response.status }), response.status);
  }
  return data;
}

// "Matrix, The (1999)" → "The Matrix": MovieLens moves articles to the end and adds the year.
function displayTitle(title) {
  let bare = title.replace(/\s*\(\d{4}\)\s*$/, "");
  const moved = bare.match(/^(.*), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)(\s*\(.*\))?$/);
  if (moved) {
    const article = moved[2];
    bare = `${article}${article.endsWith("'") ? "" : " "}${moved[1]}${moved[3] || ""}`;
  }
  return bare;
}

function label(movie) {
  return movie.year ? `${displayTitle(movie.title)} (${movie.year})` : displayTitle(movie.title);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setStatus(node, text, isError = false) {
  node.textContent = text;
  node.classList.toggle("error", isError);
}

function starsText(stars) {
  return Number.isInteger(stars) ? String(stars) : stars.toFixed(1);
}

// ---- the profile ----------------------------------------------------------------------------
// The first rating starts the profile; two quick first clicks start one, not two.
let starting = null;

async function ensureProfile() {
  if (state.session.profile) return;
  if (!starting) {
    starting = api("/api/profile", { method: "POST" }).finally(() => {
      starting = null;
    });
  }
  const made = await starting;
  state.session.profile = made.profile;
}

function forgetProfile() {
  state.session.profile = null;
  state.profile = null;
  state.stars.clear();
  state.hidden.clear();
  state.watch.clear();
  state.recs = [];
  state.recsNote = null;
  state.night = null;
}

// A change, then everything it affects: the profile, the picks and every list's controls.
async function change(work, statusNode, done) {
  try {
    await work();
    if (done) setStatus(statusNode, done);
  } catch (error) {
    if (error.status === 401 || error.status === 403) forgetProfile();
    setStatus(statusNode, t("error.change", { message: error.message }), true);
  }
  await refresh();
}

async function rate(movie, stars) {
  const status = $("profile-status");
  await change(
    async () => {
      if (stars === null) {
        await api(`/api/profile/ratings/${movie.movie_id}`, { method: "DELETE" });
      } else {
        await ensureProfile();
        await api(`/api/profile/ratings/${movie.movie_id}`, { method: "PUT", body: { stars } });
      }
    },
    status,
    stars === null
      ? t("rate.removed", { title: label(movie) })
      : t("rate.done", { title: label(movie), stars: starsText(stars) }),
  );
}

async function toggle(list, movie, on) {
  const path = `/api/profile/${list}/${movie.movie_id}`;
  const done = {
    hidden: on ? "hide.done" : "hide.undone",
    watchlist: on ? "watch.done" : "watch.undone",
  }[list];
  await change(
    async () => {
      await ensureProfile();
      await api(path, { method: on ? "PUT" : "DELETE" });
    },
    $("profile-status"),
    t(done, { title: label(movie) }),
  );
}

async function refresh() {
  const request = ++state.recsRequest;
  if (!state.session.profile) {
    forgetProfile();
    renderEverything();
    return;
  }
  $("recs-card").setAttribute("aria-busy", "true");
  try {
    const [profile, picks] = await Promise.all([
      api("/api/profile"),
      api(`/api/profile/recommendations?n=${RECOMMENDATIONS}`),
    ]);
    if (request !== state.recsRequest) return; // a newer refresh is on its way
    state.profile = profile;
    state.stars = new Map(profile.ratings.map((r) => [r.movie_id, r.stars]));
    state.hidden = new Set(profile.hidden.map((m) => m.movie_id));
    state.watch = new Set(profile.watchlist.map((m) => m.movie_id));
    state.recs = picks.recommendations;
    state.recsNote = picks.note;
  } catch (error) {
    if (request !== state.recsRequest) return;
    if (error.status === 401 || error.status === 403) forgetProfile();
    setStatus($("profile-status"), t("error.load", { message: error.message }), true);
  } finally {
    if (request === state.recsRequest) $("recs-card").setAttribute("aria-busy", "false");
  }
  if (request === state.recsRequest) renderEverything();
}

// ---- one movie row --------------------------------------------------------------------------
function starsSelect(movie) {
  const select = el("select", "stars");
  select.setAttribute("aria-label", t("rate.label", { title: label(movie) }));
  const current = state.stars.get(movie.movie_id);
  select.append(new Option(current === undefined ? t("rate.prompt") : t("rate.remove"), ""));
  const { lowest, highest, step } = state.session.scale;
  for (let stars = highest; stars >= lowest - 1e-9; stars -= step) {
    const value = Math.round(stars * 10) / 10;
    select.append(new Option(t("rate.option", { stars: starsText(value) }), String(value)));
  }
  select.value = current === undefined ? "" : String(current);
  select.classList.toggle("rated", current !== undefined);
  select.addEventListener("change", () => rate(movie, select.value === "" ? null : Number(select.value)));
  return select;
}

function toggleButton(list, movie) {
  const on = list === "hidden" ? state.hidden.has(movie.movie_id) : state.watch.has(movie.movie_id);
  const key = list === "hidden" ? (on ? "hide.undo" : "hide.button") : on ? "watch.remove" : "watch.button";
  const button = el("button", `action ${list === "hidden" ? "hide" : "watch"}`, t(key));
  button.type = "button";
  button.setAttribute("aria-pressed", String(on));
  button.setAttribute("aria-label", t(`${key}.label`, { title: label(movie) }));
  button.addEventListener("click", () => toggle(list, movie, !on));
  return button;
}

// Title (opens the movie and similar ones), year, genres, reasons, and its controls.
function movieItem(movie, extra = {}) {
  const item = el("li", "movie");
  item.dataset.movieId = String(movie.movie_id);
  const body = el("div", "movie-body");
  const heading = el("p", "movie-title");
  const open = el("button", "title-link", displayTitle(movie.title));
  open.type = "button";
  open.setAttribute("aria-label", t("movie.open", { title: label(movie) }));
  open.addEventListener("click", () => openMovie(movie, open));
  heading.append(open);
  body.append(heading);
  const genres = (movie.genres || []).filter((g) => g !== "(no genres listed)");
  if (movie.year || genres.length) {
    const meta = el("p", "genres");
    if (movie.year) meta.append(el("span", "year", String(movie.year)));
    if (movie.year && genres.length) meta.append(" · ");
    genres.forEach((raw, index) => {
      const genre = genreName(raw);
      if (index > 0) meta.append(" · ");
      meta.append(el("span", "genre", genre));
    });
    body.append(meta);
  }
  if (movie.because && movie.because.length) {
    const why = el("p", "because");
    why.append(t("movie.because"));
    movie.because.forEach((title, index) => {
      if (index > 0) why.append(index === movie.because.length - 1 ? t("list.and") : t("list.comma"));
      why.append(el("cite", "", displayTitle(title)));
    });
    why.append(t("movie.because_end"));
    body.append(why);
  }
  if (extra.serves) body.append(extra.serves);
  const actions = el("div", "actions");
  if (extra.undoHidden) {
    actions.append(toggleButton("hidden", movie));
  } else {
    actions.append(starsSelect(movie));
    if (!state.stars.has(movie.movie_id)) actions.append(toggleButton("watchlist", movie));
    if (!extra.noHide) actions.append(toggleButton("hidden", movie));
  }
  body.append(actions);
  item.append(body);
  const side = el("div", "movie-side");
  if (typeof movie.score === "number" && !extra.hideScore) {
    const score = el("span", "score", movie.score.toFixed(2));
    score.title = t("movie.score_title");
    score.setAttribute("aria-label", t("movie.score", { score: movie.score.toFixed(2) }));
    side.append(score);
    if (extra.maxScore > 0) side.append(bar(movie.score / extra.maxScore));
  }
  if (typeof extra.count === "number") {
    side.append(el("span", "count", plural("movie.count", extra.count)));
    if (extra.maxCount > 0) side.append(bar(extra.count / extra.maxCount));
  }
  if (side.childNodes.length) item.append(side);
  else item.classList.add("no-side");
  return item;
}

function bar(fraction) {
  const track = el("span", "bar");
  track.setAttribute("aria-hidden", "true");
  const fill = el("span", "bar-fill");
  fill.style.width = `${Math.max(2, Math.min(100, fraction * 100)).toFixed(1)}%`;
  track.append(fill);
  return track;
}

function renderList(node, movies, extraOf = () => ({})) {
  node.replaceChildren(...movies.map((movie) => movieItem(movie, extraOf(movie))));
}

// ---- what is on the page --------------------------------------------------------------------
// Lists are drawn afresh after each change; the control that had focus gets it back (the same
// control of the same movie in the same list), so keyboard users keep their place.
function focusedControl() {
  const active = document.activeElement;
  const item = active && active.closest ? active.closest("li[data-movie-id]") : null;
  const list = item ? item.closest("ol[id]") : null;
  if (!item || !list) return null;
  const kind = ["select.stars", "button.watch", "button.hide", "button.title-link"].find((s) => active.matches(s));
  return kind ? { list: list.id, movie: item.dataset.movieId, kind } : null;
}

function restoreFocus(place) {
  if (!place || (document.activeElement && document.activeElement !== document.body)) return;
  const item = document.querySelector(`#${place.list} > li[data-movie-id="${place.movie}"]`);
  const control = item && (item.querySelector(place.kind) || item.querySelector("select.stars"));
  if (control) control.focus();
}

function renderEverything() {
  const place = focusedControl();
  renderAll();
  restoreFocus(place);
}

function renderAll() {
  renderRecommendations();
  renderProfile();
  renderOnboarding();
  renderPopular();
  renderKeep();
  renderNight();
  if (state.similarOf) renderSimilar();
}

function renderRecommendations() {
  const status = $("recs-status");
  if (!state.session || !state.session.profile || !state.stars.size) {
    $("recs").replaceChildren();
    setStatus(status, t("recs.empty"));
    return;
  }
  const maxScore = Math.max(0, ...state.recs.map((m) => m.score));
  renderList($("recs"), state.recs, () => ({ maxScore }));
  if (!state.recs.length) setStatus(status, state.recsNote ? t("recs.none", { stars: starsText(state.session.min_rating) }) : t("recs.empty"));
  else setStatus(status, plural("recs.status", state.recs.length, { ratings: state.stars.size }));
}

function renderProfile() {
  const profile = state.profile;
  $("ratings-count").textContent = number().format(state.stars.size);
  $("watch-count").textContent = number().format(state.watch.size);
  $("hidden-count").textContent = number().format(state.hidden.size);
  if (!profile) {
    $("profile-counts").replaceChildren();
    $("taste").replaceChildren(el("p", "empty", t("profile.empty")));
    for (const id of ["ratings", "watchlist", "hidden"]) $(id).replaceChildren();
    return;
  }
  const taste = profile.taste;
  const facts = [
    [t("profile.rated"), number().format(profile.ratings.length)],
    [t("profile.likes"), number().format(taste.likes)],
    [t("profile.dislikes"), number().format(taste.dislikes)],
    [t("profile.mean"), taste.mean_stars === null ? "–" : `★ ${taste.mean_stars.toFixed(1)}`],
  ];
  $("profile-counts").replaceChildren(
    ...facts.map(([term, value]) => {
      const group = el("div", "stat");
      group.append(el("dt", "", term), el("dd", "", value));
      return group;
    }),
  );
  const parts = [el("p", "hint", t("profile.likes_rule", { stars: starsText(taste.min_rating) }))];
  if (taste.genres.length) {
    parts.push(el("h3", "subhead", t("profile.genres")));
    const list = el("ul", "genre-bars");
    const most = Math.max(1, ...taste.genres.map((g) => g.liked + g.disliked));
    for (const g of taste.genres) {
      const row = el("li", "genre-row");
      row.append(el("span", "genre-name", genreName(g.genre)));
      const track = el("span", "genre-track");
      track.setAttribute("aria-hidden", "true");
      const liked = el("span", "genre-liked");
      liked.style.width = `${((g.liked / most) * 100).toFixed(1)}%`;
      const disliked = el("span", "genre-disliked");
      disliked.style.width = `${((g.disliked / most) * 100).toFixed(1)}%`;
      track.append(liked, disliked);
      row.append(track, el("span", "genre-figures", t("profile.genre_counts", { liked: g.liked, disliked: g.disliked })));
      list.append(row);
    }
    parts.push(list);
  }
  if (taste.drivers.length) {
    parts.push(el("h3", "subhead", t("profile.drivers")));
    const drivers = el("ul", "drivers");
    for (const d of taste.drivers) {
      const item = el("li");
      item.append(el("cite", "", displayTitle(d.title)), " ", el("span", "hint", plural("profile.driver_picks", d.picks)));
      drivers.append(item);
    }
    parts.push(drivers);
  }
  $("taste").replaceChildren(...parts);
  renderList($("ratings"), profile.ratings, () => ({ noHide: true }));
  renderList($("watchlist"), profile.watchlist);
  renderList($("hidden"), profile.hidden, () => ({ undoHidden: true }));
}

function renderKeep() {
  const has = Boolean(state.session && state.session.profile);
  $("link-make").disabled = !has;
  $("delete").disabled = !has;
  $("export").hidden = !has;
  if (has) $("export").href = "/api/profile/export"; // the cookie says whose
  else $("export").removeAttribute("href");
  $("night-code").disabled = !has;
  if (!has) {
    $("link-box").hidden = true;
    $("delete-confirm").hidden = true;
    $("night-code-out").textContent = "";
  }
}

// ---- onboarding: ten well-known movies of different kinds ----------------------------------
function varied(movies, count) {
  const chosen = [];
  const seen = new Set();
  const pool = movies.filter((m) => m.count > 0);
  while (chosen.length < count && pool.length) {
    let best = 0;
    let bestNew = -1;
    pool.forEach((movie, index) => {
      const fresh = (movie.genres || []).filter((g) => !seen.has(g)).length;
      if (fresh > bestNew) {
        best = index;
        bestNew = fresh;
      }
    });
    const [movie] = pool.splice(best, 1);
    (movie.genres || []).forEach((g) => seen.add(g));
    chosen.push(movie);
  }
  return chosen;
}

function onboarded() {
  try {
    return localStorage.getItem(ONBOARDED_KEY) === "1";
  } catch (_) {
    return false;
  }
}

function renderOnboarding() {
  const card = $("onboarding");
  const show = state.onboarding.length > 0 && state.stars.size < 5 && !onboarded();
  card.hidden = !show;
  if (show) renderList($("onboarding-list"), state.onboarding, () => ({}));
}

// ---- the movie, and similar movies ---------------------------------------------------------
let similarOpener = null;

async function openMovie(movie, opener) {
  similarOpener = opener || null;
  state.similarOf = movie;
  state.similar = null;
  const card = $("similar-card");
  card.hidden = false;
  renderSimilar();
  setStatus($("similar-status"), t("similar.loading"));
  $("similar-heading").focus();
  try {
    const similar = await api(`/api/movies/${movie.movie_id}/similar?n=10`);
    if (state.similarOf !== movie) return;
    state.similar = similar;
    renderSimilar();
  } catch (error) {
    if (state.similarOf !== movie) return;
    setStatus($("similar-status"), t("similar.failed", { message: error.message }), true);
  }
}

function renderSimilar() {
  const movie = state.similarOf;
  $("similar-heading").textContent = label(movie);
  renderList($("chosen"), [movie], () => ({ hideScore: true }));
  if (!state.similar) return;
  const similar = state.similar.filter((m) => !state.hidden.has(m.movie_id));
  const maxScore = Math.max(0, ...similar.map((m) => m.score));
  renderList($("similar"), similar, () => ({ maxScore }));
  setStatus($("similar-status"), plural("similar.status", similar.length, { title: label(movie) }));
}

function closeSimilar() {
  $("similar-card").hidden = true;
  state.similar = null;
  state.similarOf = null;
  const opener = similarOpener;
  similarOpener = null;
  if (opener && document.contains(opener)) opener.focus();
  else $("search").focus();
}

// ---- popular and stats ----------------------------------------------------------------------
async function loadPopular() {
  try {
    const popular = await api("/api/popular?n=100");
    state.popular = popular.slice(0, 10);
    state.onboarding = varied(popular, ONBOARDING);
    renderPopular();
    renderOnboarding();
    suggestTitles(state.popular);
  } catch (error) {
    $("popular").replaceChildren(el("li", "status error", t("error.load", { message: error.message })));
  }
}

// The search box's example titles come from the loaded data set: its popular, short titles.
function suggestTitles(movies) {
  const short = movies.map((m) => displayTitle(m.title)).filter((title) => title.length <= 20);
  if (short.length) $("search").placeholder = `${short.slice(0, 2).join(", ")}…`;
}

function renderPopular() {
  if (!state.popular.length) return;
  const shown = state.popular.filter((m) => !state.hidden.has(m.movie_id));
  const maxCount = Math.max(...shown.map((m) => m.count));
  renderList($("popular"), shown, (movie) => ({ count: movie.count, maxCount }));
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Ratings per star value: all ratings (pale) behind the ones the model keeps (solid).
function drawChart(stats) {
  const rows = stats.rating_distribution;
  const width = 320;
  const height = 150;
  const top = 8;
  const bottom = 22;
  const plot = height - top - bottom;
  const step = width / rows.length;
  const peak = Math.max(1, ...rows.map((r) => r.all));
  const summary = rows
    .map((r) => t(r.kept ? "chart.row" : "chart.row_dropped", { stars: starsText(r.rating), count: number().format(r.all) }))
    .join("; ");
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": t("chart.label", { summary }),
    class: "chart-svg",
  });
  chart.append(svg("line", { x1: 0, x2: width, y1: top + plot, y2: top + plot, class: "axis" }));
  rows.forEach((row, index) => {
    const x = index * step + step * 0.18;
    const w = step * 0.64;
    const h = (row.all / peak) * plot;
    const group = svg("g", {});
    group.append(svg("title", {}, t(row.kept ? "chart.row" : "chart.row_dropped", {
      stars: starsText(row.rating), count: number().format(row.all),
    })));
    group.append(svg("rect", {
      x, width: w, y: top + plot - h, height: Math.max(h, 0.5), rx: 2,
      class: row.kept ? "bar-kept" : "bar-dropped",
    }));
    group.append(svg("text", { x: x + w / 2, y: height - 6, class: "tick" }, starsText(row.rating)));
    chart.append(group);
  });
  $("chart").replaceChildren(chart);
  $("chart-caption").textContent = t("stats.caption", {
    kept: number().format(stats.ratings_kept),
    stars: starsText(stats.min_rating),
  });
}

function showStats(stats) {
  const facts = [
    [t("stats.dataset"), stats.dataset],
    [t("stats.kept"), t("stats.kept_value", {
      kept: number().format(stats.ratings_kept),
      total: number().format(stats.ratings_total),
      share: (stats.kept_ratio * 100).toFixed(1),
    })],
    [t("stats.users"), number().format(stats.users)],
    [t("stats.movies"), t("stats.movies_value", {
      movies: number().format(stats.movies), total: number().format(stats.movies_total),
    })],
  ];
  $("stats").replaceChildren(
    ...facts.map(([term, value]) => {
      const group = el("div", "stat");
      group.append(el("dt", "", term), el("dd", "", value));
      return group;
    }),
  );
  drawChart(stats);
  $("model-description").textContent = t("footer.model", { model: stats.model_description, dataset: stats.dataset });
}

async function loadStats() {
  try {
    state.stats = await api("/api/stats");
    showStats(state.stats);
  } catch (error) {
    $("stats").replaceChildren(el("p", "status error", t("error.load", { message: error.message })));
  }
}

// ---- the search combobox --------------------------------------------------------------------
const combo = { options: [], active: -1, timer: 0, controller: null };

function closeSuggestions() {
  const list = $("suggestions");
  list.hidden = true;
  list.replaceChildren();
  combo.options = [];
  combo.active = -1;
  $("search").setAttribute("aria-expanded", "false");
  $("search").removeAttribute("aria-activedescendant");
}

function setActive(index) {
  const items = $("suggestions").querySelectorAll("[role=option]");
  if (!items.length) return;
  combo.active = (index + items.length) % items.length;
  items.forEach((item, position) => item.setAttribute("aria-selected", String(position === combo.active)));
  const current = items[combo.active];
  $("search").setAttribute("aria-activedescendant", current.id);
  current.scrollIntoView({ block: "nearest" });
}

function choose(index) {
  const movie = combo.options[index];
  if (!movie) return;
  $("search").value = "";
  closeSuggestions();
  openMovie(movie, $("search"));
}

function renderSuggestions(movies, query) {
  const list = $("suggestions");
  combo.options = movies;
  combo.active = -1;
  list.replaceChildren();
  if (!movies.length) {
    const none = el("li", "suggestion-empty", t("search.none", { query }));
    none.setAttribute("role", "option");
    none.setAttribute("aria-disabled", "true");
    none.id = "suggestion-none";
    list.append(none);
  }
  movies.forEach((movie, index) => {
    const option = el("li", "suggestion");
    option.id = `suggestion-${index}`;
    option.setAttribute("role", "option");
    option.setAttribute("aria-selected", "false");
    option.append(el("span", "suggestion-title", displayTitle(movie.title)));
    const details = [movie.year, (movie.genres || []).slice(0, 3).map(genreName).join(", ")].filter(Boolean);
    const stars = state.stars.get(movie.movie_id);
    if (stars !== undefined) details.push(t("search.rated", { stars: starsText(stars) }));
    option.append(el("span", "suggestion-detail", details.join(" · ")));
    option.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus
    option.addEventListener("click", () => choose(index));
    list.append(option);
  });
  list.hidden = false;
  $("search").setAttribute("aria-expanded", "true");
  if (movies.length) setActive(0);
}

async function search(query) {
  if (combo.controller) combo.controller.abort();
  const controller = new AbortController();
  combo.controller = controller;
  try {
    const url = `/api/movies/search?q=${encodeURIComponent(query)}&n=${SUGGESTIONS}`;
    const response = await fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } });
    const data = await response.json();
    if (controller.signal.aborted || $("search").value.trim() !== query) return;
    if (!response.ok) throw new Error(data.detail || t("error.status", { status: response.status }));
    renderSuggestions(data, query);
    setStatus($("search-status"), plural("search.status", data.length));
  } catch (error) {
    if (error.name !== "AbortError") setStatus($("search-status"), t("search.failed", { message: error.message }));
  }
}

function onSearchInput() {
  const query = $("search").value.trim();
  clearTimeout(combo.timer);
  if (!query) {
    closeSuggestions();
    return;
  }
  combo.timer = setTimeout(() => search(query), 120);
}

function onSearchKey(event) {
  const open = !$("suggestions").hidden && combo.options.length > 0;
  switch (event.key) {
    case "ArrowDown":
      event.preventDefault();
      if (open) setActive(combo.active + 1);
      else if ($("search").value.trim()) search($("search").value.trim());
      break;
    case "ArrowUp":
      event.preventDefault();
      if (open) setActive(combo.active - 1);
      break;
    case "Enter":
      if (open) {
        event.preventDefault();
        choose(combo.active >= 0 ? combo.active : 0);
      }
      break;
    case "Escape":
      if (!$("suggestions").hidden) {
        event.preventDefault();
        closeSuggestions();
      } else {
        $("search").value = "";
      }
      break;
    case "Tab":
      closeSuggestions();
      break;
    default:
  }
}

// ---- keeping the profile: private link, export, delete --------------------------------------
async function makeLink() {
  const status = $("keep-status");
  try {
    const made = await api("/api/profile/link", { method: "POST" });
    const link = `${location.origin}${location.pathname}#${made.fragment}`;
    $("link-box").hidden = false;
    $("link-out").value = link;
    $("link-out").select();
    setStatus(status, t("keep.link_made"));
  } catch (error) {
    setStatus(status, t("error.change", { message: error.message }), true);
  }
}

async function deleteProfile() {
  const status = $("keep-status");
  try {
    await api("/api/profile", { method: "DELETE" });
    forgetProfile();
    try {
      localStorage.removeItem(ONBOARDED_KEY);
    } catch (_) {
      // nothing kept
    }
    $("delete-confirm").hidden = true;
    renderEverything();
    setStatus(status, t("keep.deleted"));
  } catch (error) {
    setStatus(status, t("error.change", { message: error.message }), true);
  }
}

// A private link's fragment (#open=ID.SECRET) never reaches the server as part of a URL: it is
// taken off the address bar at once and traded for the profile cookie with a POST.
async function openFromLink() {
  const hash = location.hash;
  if (!hash.startsWith("#open=")) return;
  history.replaceState(null, "", `${location.pathname}${location.search}`);
  try {
    const opened = await api("/api/profile/open", { method: "POST", body: { link: hash.slice(1) } });
    state.session.profile = opened.profile;
    setStatus($("keep-status"), t("keep.opened"));
  } catch (error) {
    setStatus($("keep-status"), t("keep.open_failed", { message: error.message }), true);
  }
}

// ---- movie night ----------------------------------------------------------------------------
async function makeCode() {
  try {
    const made = await api("/api/profile/share", { method: "POST" });
    $("night-code-out").textContent = made.code;
    setStatus($("night-status"), t("night.code_made"));
  } catch (error) {
    setStatus($("night-status"), t("error.change", { message: error.message }), true);
  }
}

function addGuest(event) {
  event.preventDefault();
  const code = $("night-guest-code").value.trim();
  if (!code) return;
  if (state.guests.length >= 5) {
    setStatus($("night-status"), t("night.full"), true);
    return;
  }
  const name = $("night-guest-name").value.trim() || t("night.guest", { number: state.guests.length + 1 });
  state.guests.push({ code, name });
  $("night-guest-code").value = "";
  $("night-guest-name").value = "";
  setStatus($("night-status"), t("night.added", { name }));
  renderNight();
}

async function findNightPicks() {
  const status = $("night-status");
  setStatus(status, t("night.loading"));
  try {
    state.night = await api("/api/movie-night", {
      method: "POST",
      body: { guests: state.guests, n: RECOMMENDATIONS },
    });
    setStatus(status, plural("night.status", state.night.picks.length, { people: state.night.members.length }));
  } catch (error) {
    state.night = null;
    setStatus(status, t("night.failed", { message: error.message }), true);
  }
  renderNight();
}

function memberName(name) {
  return name === "you" ? t("night.you") : name;
}

function renderNight() {
  const guests = $("night-guests");
  guests.replaceChildren(
    ...state.guests.map((guest, index) => {
      const item = el("li", "guest");
      item.append(el("span", "guest-name", guest.name));
      const remove = el("button", "chip-remove", "×");
      remove.type = "button";
      remove.setAttribute("aria-label", t("night.remove", { name: guest.name }));
      remove.addEventListener("click", () => {
        state.guests.splice(index, 1);
        renderNight();
      });
      item.append(remove);
      return item;
    }),
  );
  const has = Boolean(state.session && state.session.profile);
  $("night-go").disabled = !has || state.guests.length === 0;
  $("night-rule").hidden = !state.night;
  if (!state.night) {
    $("night-picks").replaceChildren();
    return;
  }
  const percent = new Intl.NumberFormat(i18n.language, { style: "percent", maximumFractionDigits: 1 });
  const members = state.night.members;
  renderList($("night-picks"), state.night.picks, (pick) => {
    const serves = el("div", "night-why");
    const most = el("p", "serves");
    most.append(t("night.serves"), " ");
    pick.serves.forEach((name, index) => {
      if (index > 0) most.append(t("list.comma"));
      most.append(el("strong", "member", memberName(name)));
    });
    // Each member's percentile of this pick among the candidates: 100% is their best match.
    const fit = el("p", "fit", `${t("night.fit")} `);
    fit.append(members.map((name, i) => `${memberName(name)} ${percent.format(pick.members[i])}`).join(" · "));
    serves.append(most, fit);
    return { serves, hideScore: true };
  });
}

// ---- start ----------------------------------------------------------------------------------
function preferredLanguage(server) {
  try {
    const chosen = localStorage.getItem(LANGUAGE_KEY);
    if (chosen === "en" || chosen === "ko") return chosen;
  } catch (_) {
    // no storage: follow the browser
  }
  return server;
}

async function start() {
  const input = $("search");
  input.addEventListener("input", onSearchInput);
  input.addEventListener("keydown", onSearchKey);
  input.addEventListener("blur", () => setTimeout(closeSuggestions, 100));
  $("similar-close").addEventListener("click", closeSimilar);
  $("similar-card").addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeSimilar();
  });
  $("onboarding-close").addEventListener("click", () => {
    try {
      localStorage.setItem(ONBOARDED_KEY, "1");
    } catch (_) {
      // the card comes back next visit
    }
    $("onboarding").hidden = true;
  });
  for (const button of document.querySelectorAll(".lang")) {
    button.addEventListener("click", () => switchLanguage(button.dataset.lang));
  }
  $("link-make").addEventListener("click", makeLink);
  $("delete").addEventListener("click", () => {
    $("delete-confirm").hidden = false;
    $("delete-no").focus();
  });
  $("delete-no").addEventListener("click", () => {
    $("delete-confirm").hidden = true;
    $("delete").focus();
  });
  $("delete-yes").addEventListener("click", deleteProfile);
  $("night-code").addEventListener("click", makeCode);
  $("night-form").addEventListener("submit", addGuest);
  $("night-go").addEventListener("click", findNightPicks);

  state.session = await api("/api/session");
  try {
    await loadLanguage(preferredLanguage(state.session.language));
  } catch (_) {
    await loadLanguage("en");
  }
  await openFromLink();
  renderEverything();
  await Promise.all([refresh(), loadPopular(), loadStats()]);
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
