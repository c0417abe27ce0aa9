// Pānui archive search: loads the per-year JSON indexes next to this page and matches every query word
// against titles, summaries, topics and article words. Results are built with textContent, never HTML.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-query");
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  var shards = (form.getAttribute("data-shards") || "").split(" ").filter(Boolean);
  var loading = null;  // one download of the indexes, however many keystrokes arrive while it runs

  function words(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").split(/[^a-z0-9]+/).filter(Boolean);
  }

  function load() {
    if (!loading) {
      loading = Promise.all(shards.map(function (year) {
        return fetch(year + ".json").then(function (response) {
          if (!response.ok) { throw new Error(year + ".json: HTTP " + response.status); }
          return response.json();
        });
      })).then(function (lists) {
        var all = [].concat.apply([], lists.map(function (list) { return list.articles; }));
        all.forEach(function (article) { article.haystack = " " + article.w + " "; });
        return all;
      });
      loading.catch(function () { loading = null; });  // a later keystroke tries again
    }
    return loading;
  }

  function show(found, query) {
    results.textContent = "";
    found.slice(0, 100).forEach(function (article) {
      var item = document.createElement("li");
      var heading = document.createElement("h2");
      var link = document.createElement("a");
      link.href = "../" + article.u;
      link.textContent = article.t;
      heading.appendChild(link);
      var meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = article.d + (article.k ? " · " + article.k : "");
      var summary = document.createElement("p");
      summary.textContent = article.s;
      item.appendChild(heading);
      item.appendChild(meta);
      item.appendChild(summary);
      results.appendChild(item);
    });
    status.textContent = found.length + (found.length === 1 ? " article matches " : " articles match ") + "\u201c" + query + "\u201d.";
  }

  function search() {
    var query = input.value.trim();
    var terms = words(query);
    if (!terms.length) { results.textContent = ""; status.textContent = "Type a word to search."; return; }
    load().then(function (all) {
      if (input.value.trim() !== query) { return; }  // typed on meanwhile: that search shows its own results
      show(all.filter(function (article) {
        return terms.every(function (term) { return article.haystack.indexOf(" " + term) !== -1; });
      }), query);
    }).catch(function () {
      status.textContent = window.location.protocol === "file:"
        ? "Search needs the archive served over HTTP: a browser does not let a page opened as a file load the search index. Serve this folder (python run.py serve) and open its address."
        : "The search index could not be loaded.";
    });
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); search(); });
  input.addEventListener("input", search);
  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) { input.value = initial; search(); }
}());
