// Pānui archive search. A query downloads what it matches, not the archive: for each query word, the
// file of words beginning with its first two letters (terms/<ab>.json, listed in the form's data-shards),
// with each word's posting (the articles that have it, newest first): its newest entries ("w") and, for
// a word in many articles, how many older ones are in files of its own ("f"), data-file entries a file
// counted from the oldest (postings/<word>.<n>.txt, n from 1, the oldest; the newest file may have
// fewer); they join into the posting newest first (a query of one word needs only its newest files:
// enough for the results it shows, its count being its files' and its newest entries'); then what the
// shown results say (articles/<n>.json, 16 articles a file). Every query word must match: a word of
// three or more letters matches the words it begins, a shorter one matches itself. Each file is
// downloaded once. Results are built with textContent, never HTML.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-query");
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  var shards = {};
  (form.getAttribute("data-shards") || "").split(" ").forEach(function (key) { if (key) { shards[key] = true; } });
  var FILE = Number(form.getAttribute("data-file")) || Infinity;
  var FIRST = 20, SHOWN = 100, GROUP = 16, LONGEST = 40, PREFIX = 3;
  var ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
  var DIGITS = new Int8Array(128).fill(-1);
  for (var d = 0; d < ALPHABET.length; d++) { DIGITS[ALPHABET.charCodeAt(d)] = d; }
  var downloads = {};  // address -> promise of its contents, however many keystrokes ask while it loads

  function words(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").split(/[^a-z0-9]+/)
      .filter(Boolean).map(function (word) { return word.slice(0, LONGEST); });
  }

  function get(address, json) {
    if (!downloads[address]) {
      downloads[address] = fetch(address).then(function (response) {
        if (!response.ok) { throw new Error(address + ": HTTP " + response.status); }
        return json ? response.json() : response.text();
      });
      downloads[address].catch(function () { delete downloads[address]; });  // a later keystroke tries again
    }
    return downloads[address];
  }

  // A posting's (day, article id) pairs into `found` (id -> day): numbers in 5-bit digits, the first
  // pair as it is, each later one as days back and the id's zig-zagged difference.
  function decode(posting, found) {
    var numbers = [], value = 0, shift = 0, i;
    for (i = 0; i < posting.length; i++) {
      var code = posting.charCodeAt(i), digit = code < 128 ? DIGITS[code] : -1;
      if (digit < 0) { continue; }  // the line's end
      value += (digit & 31) * Math.pow(2, shift);
      if (digit >= 32) { shift += 5; } else { numbers.push(value); value = 0; shift = 0; }
    }
    var day = numbers[0], id = numbers[1];
    for (i = 0; i + 1 < numbers.length; i += 2) {
      if (i) { day -= numbers[i]; id += numbers[i + 1] % 2 ? -(numbers[i + 1] + 1) / 2 : numbers[i + 1] / 2; }
      found.set(id, day);
    }
  }

  // The entries of a posting's text: two numbers each, a number ending with a digit under 32.
  function entries(text) { return (text.match(/[0-9A-V]/g) || []).length / 2; }

  // A promise of a word's posting: its newest entries (from the shard) and the `filed` entries of its
  // files, joined newest first; its newest SHOWN articles at least, when `newest`, else all of them.
  function posting(word, newestEntries, filed, newest) {
    var texts = [newestEntries], wanted = SHOWN - entries(newestEntries), last = Math.ceil(filed / FILE);
    for (var file = last; file >= 1 && (!newest || wanted > 0); file--) {
      texts.push(get("postings/" + word + "." + file + ".txt", false));
      wanted -= file === last ? filed - (last - 1) * FILE : FILE;
    }
    return Promise.all(texts).then(function (parts) { return parts.join(""); });
  }

  // A promise of the articles (id -> day) with a word that `term` matches, and their number. A query
  // of this term alone (`alone`) that matches one word takes its count from the shard and only its
  // newest articles: those it shows.
  function matching(term, alone) {
    var key = term.slice(0, 2), count = null;
    if (!shards[key]) { return Promise.resolve({found: new Map(), count: 0}); }
    return get("terms/" + key + ".json", true).then(function (shard) {
      var words = Object.keys(shard.w).filter(function (word) {
        return term.length < PREFIX ? word === term : word.lastIndexOf(term, 0) === 0;
      });
      if (alone && words.length === 1) { count = (shard.f[words[0]] || 0) + entries(shard.w[words[0]]); }
      return Promise.all(words.map(function (word) {
        return posting(word, shard.w[word], shard.f[word] || 0, count !== null);
      }));
    }).then(function (postings) {
      var found = new Map();
      postings.forEach(function (posting) { decode(posting, found); });
      return {found: found, count: count === null ? found.size : count};
    });
  }

  function show(found, shown, query) {
    results.textContent = "";
    shown.forEach(function (article) {
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
    status.textContent = found + (found === 1 ? " article matches " : " articles match ") + "\u201c" + query + "\u201d.";
  }

  function render(found, shownCount, query, count) {
    var shown = found.slice(0, shownCount), groups = [];
    shown.forEach(function (entry) {
      var group = Math.floor(entry[1] / GROUP);
      if (groups.indexOf(group) < 0) { groups.push(group); }
    });
    return Promise.all(groups.map(function (group) { return get("articles/" + group + ".json", true); }))
      .then(function (files) {
        if (input.value.trim() !== query) { return; }  // typed on meanwhile: that search shows its own
        var records = {};
        files.forEach(function (file) { Object.keys(file.a).forEach(function (id) { records[id] = file.a[id]; }); });
        show(count, shown.map(function (entry) { return records[entry[1]]; }), query);
      });
  }

  function search() {
    var query = input.value.trim();
    var terms = words(query);
    if (!terms.length) { results.textContent = ""; status.textContent = "Type a word to search."; return; }
    Promise.all(terms.map(function (term) { return matching(term, terms.length === 1); })).then(function (matches) {
      if (input.value.trim() !== query) { return; }
      var sets = matches.map(function (match) { return match.found; });
      sets.sort(function (a, b) { return a.size - b.size; });
      var found = [];
      sets[0].forEach(function (day, id) {
        if (sets.every(function (set) { return set.has(id); })) { found.push([day, id]); }
      });
      found.sort(function (a, b) { return b[0] - a[0] || b[1] - a[1]; });  // newest first
      var count = matches.length === 1 ? matches[0].count : found.length;
      // The newest FIRST results as soon as their files are in, then the rest of the SHOWN.
      return render(found, FIRST, query, count).then(function () {
        return found.length > FIRST && input.value.trim() === query && render(found, SHOWN, query, count);
      });
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
