// movierec's page: favourites in, recommendations out. Vanilla JS, same-origin JSON API only.
"use strict";

const RECOMMENDATIONS = 10;
const SUGGESTIONS = 8;
const STORAGE_KEY = "movierec.favourites";
const EXAMPLE = ["Toy Story", "Matrix, The", "Fargo"];

const $ = (id) => document.getElementById(id);
const favourites = new Map(); // movie_id → movie, in the order they were added
const state = { recs: [], similar: null, similarOf: null, popular: [], recsRequest: 0 };

// ---- small helpers ------------------------------------------------------------------------
async function api(path, body) {
  const options = { headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.method = "POST";
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
    throw new Error(detail || `the server answered ${response.status}`);
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

const number = new Intl.NumberFormat("en");

function setStatus(node, text, isError = false) {
  node.textContent = text;
  node.classList.toggle("error", isError);
}

// ---- favourites ---------------------------------------------------------------------------
function saveFavourites() {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify([...favourites.values()]));
  } catch (_) {
    // Private browsing may refuse storage; favourites then last for this visit only.
  }
}

function loadFavourites() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "[]");
    for (const movie of saved) {
      if (movie && Number.isInteger(movie.movie_id)) favourites.set(movie.movie_id, movie);
    }
  } catch (_) {
    favourites.clear();
  }
}

function addFavourite(movie) {
  if (favourites.has(movie.movie_id)) {
    setStatus($("fav-status"), `${label(movie)} is already a favourite.`);
    return;
  }
  const { movie_id, title, genres, year } = movie; // keep what a chip needs, not scores
  favourites.set(movie_id, { movie_id, title, genres, year });
  setStatus($("fav-status"), `Added ${label(movie)}. ${favourites.size} favourites.`);
  favouritesChanged();
}

function removeFavourite(movieId, focusAfter) {
  const movie = favourites.get(movieId);
  if (!movie) return;
  favourites.delete(movieId);
  setStatus($("fav-status"), `Removed ${label(movie)}. ${favourites.size} favourites.`);
  favouritesChanged();
  if (focusAfter) focusAfter();
}

function renderChips() {
  const chips = $("chips");
  chips.replaceChildren();
  const ids = [...favourites.keys()];
  ids.forEach((movieId, position) => {
    const movie = favourites.get(movieId);
    const chip = el("li", "chip");
    const name = el("button", "chip-name", displayTitle(movie.title));
    name.type = "button";
    name.setAttribute("aria-label", `${label(movie)}: show similar movies`);
    name.addEventListener("click", () => openSimilar(movie, name));
    if (movie.year) name.append(el("span", "chip-year", ` ${movie.year}`));
    const remove = el("button", "chip-remove", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", `Remove ${label(movie)} from favourites`);
    remove.addEventListener("click", () =>
      removeFavourite(movieId, () => {
        const buttons = chips.querySelectorAll(".chip-remove");
        const next = buttons[Math.min(position, buttons.length - 1)];
        (next || $("search")).focus();
      }),
    );
    chip.append(name, remove);
    chips.append(chip);
  });
  $("chips-empty").hidden = ids.length > 0;
  $("clear").hidden = ids.length === 0;
}

function favouritesChanged() {
  saveFavourites();
  renderChips();
  refreshRecommendations();
  renderPopular();
  if (state.similar) renderSimilar();
}

// ---- movie lists --------------------------------------------------------------------------
function addButton(movie) {
  const button = el("button", "add");
  button.type = "button";
  const added = favourites.has(movie.movie_id);
  const unusable = movie.count === 0;
  button.textContent = added ? "✓" : "+";
  button.disabled = added || unusable;
  button.setAttribute(
    "aria-label",
    added
      ? `${label(movie)} is a favourite`
      : unusable
        ? `${label(movie)} has no ratings to learn from`
        : `Add ${label(movie)} to favourites`,
  );
  button.title = added ? "In your favourites" : unusable ? "No ratings to learn from" : "Add to favourites";
  button.addEventListener("click", () => addFavourite(movie));
  return button;
}

// One movie row: title (opens similar movies), year, genres, and optional score/reason/count.
function movieItem(movie, extra = {}) {
  const item = el("li", "movie");
  const body = el("div", "movie-body");
  const heading = el("p", "movie-title");
  const open = el("button", "title-link", displayTitle(movie.title));
  open.type = "button";
  open.setAttribute("aria-label", `${label(movie)}: show similar movies`);
  open.addEventListener("click", () => openSimilar(movie, open));
  heading.append(open);
  body.append(heading);
  const genres = (movie.genres || []).filter((g) => g !== "(no genres listed)");
  if (movie.year || genres.length) {
    const meta = el("p", "genres");
    if (movie.year) meta.append(el("span", "year", String(movie.year)));
    if (movie.year && genres.length) meta.append(" · ");
    genres.forEach((genre, index) => {
      if (index > 0) meta.append(" · ");
      meta.append(el("span", "genre", genre));
    });
    body.append(meta);
  }
  if (movie.because && movie.because.length) {
    const why = el("p", "because");
    why.append("Because you liked ");
    movie.because.forEach((title, index) => {
      if (index > 0) why.append(index === movie.because.length - 1 ? " and " : ", ");
      why.append(el("cite", "", displayTitle(title)));
    });
    body.append(why);
  }
  item.append(body);
  const side = el("div", "movie-side");
  if (typeof movie.score === "number") {
    const score = el("span", "score", movie.score.toFixed(2));
    score.title = "Preference score (higher is a better match)";
    score.setAttribute("aria-label", `score ${movie.score.toFixed(2)}`);
    side.append(score);
    if (extra.maxScore > 0) side.append(bar(movie.score / extra.maxScore));
  }
  if (typeof extra.count === "number") {
    side.append(el("span", "count", `${number.format(extra.count)} ratings`));
    if (extra.maxCount > 0) side.append(bar(extra.count / extra.maxCount));
  }
  side.append(addButton(movie));
  item.append(side);
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

function renderList(node, movies, extraOf) {
  node.replaceChildren(...movies.map((movie) => movieItem(movie, extraOf(movie))));
}

// ---- recommendations ----------------------------------------------------------------------
async function refreshRecommendations() {
  const request = ++state.recsRequest;
  const status = $("recs-status");
  const card = $("recs-card");
  if (favourites.size === 0) {
    state.recs = [];
    $("recs").replaceChildren();
    setStatus(status, "Add a favourite movie to get recommendations.");
    return;
  }
  card.setAttribute("aria-busy", "true");
  setStatus(status, "Finding recommendations…");
  try {
    const recs = await api("/api/recommend", {
      liked: [...favourites.keys()],
      n: RECOMMENDATIONS,
      explain: true,
    });
    if (request !== state.recsRequest) return; // a newer request is on its way
    state.recs = recs;
    renderRecommendations();
    const count = favourites.size;
    setStatus(
      status,
      `${recs.length} recommendations from your ${count} favourite${count === 1 ? "" : "s"}.`,
    );
  } catch (error) {
    if (request !== state.recsRequest) return;
    state.recs = [];
    $("recs").replaceChildren();
    setStatus(status, `Could not get recommendations: ${error.message}`, true);
  } finally {
    if (request === state.recsRequest) card.setAttribute("aria-busy", "false");
  }
}

function renderRecommendations() {
  const maxScore = Math.max(0, ...state.recs.map((m) => m.score));
  renderList($("recs"), state.recs, () => ({ maxScore }));
}

// ---- similar movies -----------------------------------------------------------------------
let similarOpener = null;

async function openSimilar(movie, opener) {
  similarOpener = opener || null;
  const card = $("similar-card");
  const heading = $("similar-heading");
  const status = $("similar-status");
  state.similarOf = movie;
  heading.textContent = `Similar to ${label(movie)}`;
  card.hidden = false;
  setStatus(status, "Loading…");
  $("similar").replaceChildren();
  heading.focus();
  try {
    const similar = await api(`/api/movies/${movie.movie_id}/similar?n=10`);
    if (state.similarOf !== movie) return;
    state.similar = similar;
    renderSimilar();
    setStatus(status, `${similar.length} movies similar to ${label(movie)}.`);
  } catch (error) {
    if (state.similarOf !== movie) return;
    state.similar = null;
    setStatus(status, `Could not find similar movies: ${error.message}`, true);
  }
}

function renderSimilar() {
  const maxScore = Math.max(0, ...state.similar.map((m) => m.score));
  renderList($("similar"), state.similar, () => ({ maxScore }));
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

// ---- popular and stats --------------------------------------------------------------------
async function loadPopular() {
  try {
    state.popular = await api("/api/popular?n=10");
    renderPopular();
    suggestTitles(state.popular);
  } catch (error) {
    $("popular").replaceChildren(el("li", "status error", `Could not load: ${error.message}`));
  }
}

// The search box's example titles come from the loaded data set: its popular, short titles.
function suggestTitles(movies) {
  const short = movies.map((m) => displayTitle(m.title)).filter((t) => t.length <= 20);
  if (short.length) $("search").placeholder = `${short.slice(0, 2).join(", ")}…`;
}

function renderPopular() {
  if (!state.popular.length) return;
  const maxCount = Math.max(...state.popular.map((m) => m.count));
  renderList($("popular"), state.popular, (movie) => ({ count: movie.count, maxCount }));
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
  const stars = (r) => (Number.isInteger(r.rating) ? String(r.rating) : r.rating.toFixed(1));
  const summary = rows
    .map((r) => `${stars(r)} stars: ${number.format(r.all)}${r.kept ? "" : " (dropped)"}`)
    .join("; ");
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": `Bar chart of ratings per star value. ${summary}.`,
    class: "chart-svg",
  });
  chart.append(svg("line", { x1: 0, x2: width, y1: top + plot, y2: top + plot, class: "axis" }));
  rows.forEach((row, index) => {
    const x = index * step + step * 0.18;
    const w = step * 0.64;
    const h = (row.all / peak) * plot;
    const group = svg("g", {});
    group.append(svg("title", {}, `${stars(row)} stars: ${number.format(row.all)} ratings` +
      (row.kept ? " (kept)" : " (dropped by the cut-off)")));
    group.append(svg("rect", {
      x, width: w, y: top + plot - h, height: Math.max(h, 0.5), rx: 2,
      class: row.kept ? "bar-kept" : "bar-dropped",
    }));
    group.append(svg("text", { x: x + w / 2, y: height - 6, class: "tick" }, stars(row)));
    chart.append(group);
  });
  $("chart").replaceChildren(chart);
  $("chart-caption").textContent =
    `Ratings per star value; the model learns from the ${number.format(stats.ratings_kept)} ` +
    `at or above ${stats.min_rating} stars (solid), not from the pale ones.`;
}

async function loadStats() {
  try {
    const stats = await api("/api/stats");
    const facts = [
      ["Data set", stats.dataset],
      ["Ratings kept", `${number.format(stats.ratings_kept)} of ${number.format(stats.ratings_total)} ` +
        `(${(stats.kept_ratio * 100).toFixed(1)}%)`],
      ["Users", number.format(stats.users)],
      ["Movies", `${number.format(stats.movies)} of ${number.format(stats.movies_total)}`],
    ];
    $("stats").replaceChildren(
      ...facts.flatMap(([term, value]) => {
        const group = el("div", "stat");
        group.append(el("dt", "", term), el("dd", "", value));
        return [group];
      }),
    );
    drawChart(stats);
    $("model-description").textContent = `${stats.model_description}, trained on ${stats.dataset}`;
  } catch (error) {
    $("stats").replaceChildren(el("p", "status error", `Could not load: ${error.message}`));
  }
}

// ---- the search combobox ------------------------------------------------------------------
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
  const list = $("suggestions");
  const items = list.querySelectorAll("[role=option]");
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
  if (movie.count === 0 || favourites.has(movie.movie_id)) {
    $("search-message").textContent = favourites.has(movie.movie_id)
      ? `${label(movie)} is already a favourite.`
      : `${label(movie)} has no ratings to learn from; pick another movie.`;
    return;
  }
  const input = $("search");
  input.value = "";
  closeSuggestions();
  addFavourite(movie);
  input.focus();
}

function renderSuggestions(movies, query) {
  const list = $("suggestions");
  combo.options = movies;
  combo.active = -1;
  list.replaceChildren();
  if (!movies.length) {
    const none = el("li", "suggestion-empty", `No movie matches “${query}”.`);
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
    const added = favourites.has(movie.movie_id);
    const unusable = movie.count === 0;
    if (added || unusable) option.setAttribute("aria-disabled", "true");
    option.append(el("span", "suggestion-title", displayTitle(movie.title)));
    const details = [movie.year, (movie.genres || []).slice(0, 3).join(", ")].filter(Boolean);
    if (added) details.push("already a favourite");
    if (unusable) details.push("no ratings");
    option.append(el("span", "suggestion-detail", details.join(" · ")));
    option.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus
    option.addEventListener("click", () => choose(index));
    list.append(option);
  });
  list.hidden = false;
  $("search").setAttribute("aria-expanded", "true");
  const usable = movies.findIndex((m) => m.count !== 0 && !favourites.has(m.movie_id));
  if (movies.length) setActive(Math.max(usable, 0));
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
    if (!response.ok) throw new Error(data.detail || `the server answered ${response.status}`);
    renderSuggestions(data, query);
    setStatus($("fav-status"), `${data.length} matching movies.`);
  } catch (error) {
    if (error.name !== "AbortError") setStatus($("fav-status"), `Search failed: ${error.message}`);
  }
}

function onSearchInput() {
  const query = $("search").value.trim();
  $("search-message").textContent = "";
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

async function addExample() {
  for (const title of EXAMPLE) {
    try {
      const [movie] = await api(`/api/movies/search?q=${encodeURIComponent(title)}&n=1`);
      if (movie && movie.count > 0) favourites.set(movie.movie_id, movie);
    } catch (_) {
      // An example that this data set lacks is simply skipped.
    }
  }
  setStatus($("fav-status"), `Added an example: ${favourites.size} favourites.`);
  favouritesChanged();
  $("recs-heading").focus();
}

// ---- start --------------------------------------------------------------------------------
function start() {
  const input = $("search");
  input.addEventListener("input", onSearchInput);
  input.addEventListener("keydown", onSearchKey);
  input.addEventListener("blur", () => setTimeout(closeSuggestions, 100));
  $("similar-close").addEventListener("click", closeSimilar);
  $("similar-card").addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeSimilar();
  });
  $("example").addEventListener("click", addExample);
  $("clear").addEventListener("click", () => {
    favourites.clear();
    setStatus($("fav-status"), "Cleared all favourites.");
    favouritesChanged();
    input.focus();
  });
  loadFavourites();
  renderChips();
  refreshRecommendations();
  loadPopular();
  loadStats();
}

document.addEventListener("DOMContentLoaded", start);
