// Depot web catalog: live search (the JSON API on a server, search.json in a static export) and copy buttons.
// The pages are complete without this script; it only makes them quicker to use. No inline code anywhere (the
// server's Content-Security-Policy allows scripts from the site only), no innerHTML (all text goes in as text).
(function () {
  'use strict';

  var body = document.body;
  var isStatic = body.getAttribute('data-mode') === 'static';
  var pageSize = 50;

  function countText(total, offset, shown) {
    var text = total.toLocaleString('en-US') + (total === 1 ? ' spec' : ' specs');
    if (shown < total) {
      text += ', ' + (shown === 0 ? 'none' : (offset + 1).toLocaleString('en-US') + '–'
        + (offset + shown).toLocaleString('en-US')) + ' shown';
    }
    return text;
  }

  // ---- Copy buttons: the <pre> named by data-copy, to the clipboard; "Copied" is announced.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http on another host has no Clipboard API: the older command, on a selection.
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.className = 'visually-hidden';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error('copy refused')); }
    });
  }

  var status = document.getElementById('copy-status');
  Array.prototype.forEach.call(document.querySelectorAll('button.copy[data-copy]'), function (button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) { return; }
    button.hidden = false;
    button.addEventListener('click', function () {
      copyText(source.textContent).then(function () {
        button.textContent = 'Copied';
        if (status) { status.textContent = 'Copied'; }
        window.setTimeout(function () {
          button.textContent = 'Copy';
          if (status) { status.textContent = ''; }
        }, 2000);
      }, function () {
        if (status) { status.textContent = 'Could not copy: select the text and copy it by hand'; }
      });
    });
  });

  // ---- Nodes of the dependency graph open their spec's page (the lists above hold the same links).
  Array.prototype.forEach.call(document.querySelectorAll('svg.dag .node[data-href]'), function (node) {
    node.addEventListener('click', function () { window.location.href = node.getAttribute('data-href'); });
  });

  // ---- Search.
  var form = document.getElementById('search-form');
  if (!form) { return; }
  var input = document.getElementById('search');
  var results = document.getElementById('results');
  var count = document.getElementById('result-count');
  var filters = ['arch', 'os', 'compiler'].map(function (id) { return document.getElementById(id); })
    .filter(function (el) { return el; });
  var specHref = form.getAttribute('data-spec-href') || '';
  var api = body.getAttribute('data-api');
  var timer = 0;
  var sequence = 0;
  var index = null;

  function current() {
    var query = { q: input.value.trim() };
    filters.forEach(function (select) { query[select.name] = select.value; });
    return query;
  }

  function queryString(query, extra) {
    var parts = [];
    Object.keys(query).forEach(function (name) {
      if (query[name]) { parts.push(encodeURIComponent(name) + '=' + encodeURIComponent(query[name])); }
    });
    return parts.concat(extra || []).join('&');
  }

  // The server's rules (Depot.Catalog.SearchTerms), in the browser; every word must match:
  //   /abc12 hash prefix · +mpi ~shared +a~b variants · key=value variant · %gcc compiler
  //   name@1.2 name and version prefix · zl name prefix. Names compare without case.
  function normalizeWord(word) { return word.split(':=').join('=').split("'").join(''); }

  function variantWords(text) {
    var words = [];
    (text || '').split(/\s+/).forEach(function (token) {
      if (!token) { return; }
      if (token.charAt(0) === '+' || token.charAt(0) === '~') {
        (token.match(/[+~][^+~]+/g) || []).forEach(function (w) { words.push(w); });
      } else {
        words.push(normalizeWord(token));
      }
    });
    return words;
  }

  function parseTerms(text) {
    var terms = [];
    text.split(/\s+/).forEach(function (term) {
      if (!term) { return; }
      if (term.charAt(0) === '/') {
        terms.push({ hash: term.slice(1).toLowerCase() });
      } else if (term.charAt(0) === '+' || term.charAt(0) === '~') {
        (term.match(/[+~][^+~]+/g) || []).forEach(function (w) { terms.push({ variant: w }); });
      } else if (term.charAt(0) === '%') {
        terms.push({ compiler: term.slice(1).toLowerCase() });
      } else if (term.indexOf('=') >= 0) {
        terms.push({ variant: normalizeWord(term) });
      } else if (term.indexOf('@') > 0) {
        var at = term.indexOf('@');
        terms.push({ name: term.slice(0, at).toLowerCase(), version: term.slice(at + 1) });
      } else {
        terms.push({ prefix: term.replace(/^@+/, '').toLowerCase() });
      }
    });
    return terms;
  }

  function matchesTerm(row, term) {
    if (term.hash !== undefined) { return row.hash.indexOf(term.hash) === 0; }
    if (term.variant !== undefined) { return row.words.indexOf(term.variant) >= 0; }
    if (term.compiler !== undefined) { return row.compiler.toLowerCase().indexOf(term.compiler) >= 0; }
    if (term.version !== undefined) {
      return row.lowerName === term.name && row.version.indexOf(term.version) === 0;
    }
    return row.lowerName.indexOf(term.prefix) === 0;
  }

  function matches(row, terms, query) {
    if (query.arch && row.arch !== query.arch) { return false; }
    if (query.os && row.arch.split('-')[1] !== query.os) { return false; }
    if (query.compiler && row.compiler !== query.compiler) { return false; }
    for (var i = 0; i < terms.length; i++) {
      if (!matchesTerm(row, terms[i])) { return false; }
    }
    return true;
  }

  function loadIndex() {
    if (!index) {
      index = fetch(form.getAttribute('data-index'), { credentials: 'same-origin' }).then(function (response) {
        if (!response.ok) { throw new Error('search.json: HTTP ' + response.status); }
        return response.json();
      }).then(function (doc) {
        var at = {};
        doc.fields.forEach(function (field, i) { at[field] = i; });
        return doc.rows.map(function (r) {
          var row = {
            hash: r[at.hash], name: r[at.name], version: r[at.version], arch: r[at.arch],
            compiler: r[at.compiler], variants: r[at.variants] || ''
          };
          row.lowerName = row.name.toLowerCase();
          row.words = variantWords(row.variants);
          return row;
        });
      });
      index.catch(function () { index = null; });
    }
    return index;
  }

  function searchStatic(query) {
    return loadIndex().then(function (rows) {
      var terms = parseTerms(query.q);
      var found = rows.filter(function (row) { return matches(row, terms, query); });
      return { total: found.length, rows: found.slice(0, pageSize) };
    });
  }

  function searchLive(query) {
    var url = api + 'search?' + queryString(query, ['limit=' + pageSize]);
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      }).then(function (doc) { return { total: doc.total, rows: doc.specs }; });
  }

  function span(className, text) {
    var el = document.createElement('span');
    el.className = className;
    el.textContent = text;
    return el;
  }

  function item(row) {
    var li = document.createElement('li');
    li.className = 'result';
    li.setAttribute('data-hash', row.hash);
    var link = document.createElement('a');
    link.className = 'spec-link';
    link.href = specHref.replace('HASH', encodeURIComponent(row.hash));
    link.textContent = row.name + '@' + row.version;
    var hash = document.createElement('code');
    hash.className = 'hash';
    hash.textContent = '/' + row.hash.slice(0, 7);
    li.append(link, ' ', hash, ' ', span('arch', row.arch), ' ', span('compiler', row.compiler));
    if (row.variants) { li.append(' ', span('variants', row.variants)); }
    return li;
  }

  function render(query, found) {
    results.replaceChildren.apply(results, found.rows.map(item));
    results.removeAttribute('aria-busy');
    count.textContent = countText(found.total, 0, found.rows.length);
    var more = document.querySelector('.more-results');
    if (more) { more.hidden = true; }
  }

  function run() {
    var query = current();
    var mine = ++sequence;
    var url = window.location.pathname + (queryString(query) ? '?' + queryString(query) : '');
    window.history.replaceState(null, '', url);
    (isStatic ? searchStatic(query) : searchLive(query)).then(function (found) {
      if (mine === sequence) { render(query, found); }
    }, function (error) {
      if (mine !== sequence) { return; }
      results.removeAttribute('aria-busy');
      count.textContent = 'Search failed (' + error.message + ')';
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    results.setAttribute('aria-busy', 'true');
    timer = window.setTimeout(run, 150);
  }

  input.addEventListener('input', schedule);
  filters.forEach(function (select) { select.addEventListener('change', schedule); });
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    results.setAttribute('aria-busy', 'true');
    run();
  });

  // A static page has no server to answer ?q=…: the script does (a bookmarked or submitted search).
  if (isStatic) {
    var params = new URLSearchParams(window.location.search);
    var asked = false;
    if (params.get('q')) { input.value = params.get('q'); asked = true; }
    filters.forEach(function (select) {
      var value = params.get(select.name);
      if (value) {
        if (!Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
          select.add(new Option(value + ' (0)', value));
        }
        select.value = value;
        asked = true;
      }
    });
    if (asked) { run(); }
  }
}());
