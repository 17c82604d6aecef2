// The demo shop: the Assent consent banner, a few tracked actions, and a live panel showing what the
// tracker keeps on this device and what it sends. Plain browser JavaScript, no build step.
;(function () {
  var cfg = window.ASSENT_DEMO || { writeKey: 'pk_demo', endpoint: '' }
  var sent = []

  // Watch the tracker's requests, for the panel only: the page's own fetch, wrapped.
  var realFetch = window.fetch
  window.fetch = function (url, init) {
    var isBatch = typeof url === 'string' && url.indexOf('/v1/batch') !== -1
    var result = realFetch.apply(this, arguments)
    if (isBatch) {
      var entry = { body: JSON.parse(init.body), anonymous: !!(init.headers && init.headers['X-Assent-Anonymous']), status: '…' }
      sent.unshift(entry)
      result.then(function (r) { entry.status = r.status; render() }, function () { entry.status = 'network error'; render() })
    }
    return result
  }

  var a = (window.assent = Assent.init({
    writeKey: cfg.writeKey,
    endpoint: cfg.endpoint || location.origin,
    consent: { whilePending: 'queue', onDeny: 'anonymous', revision: 'demo-1' },
    delivery: { flushIntervalMs: 500 },
  }))
  a.page('Shop')

  var $ = function (id) { return document.getElementById(id) }
  var cart = 0

  document.querySelectorAll('.add').forEach(function (button) {
    button.addEventListener('click', function () {
      var p = button.closest('.product').dataset
      cart++
      $('cart').textContent = 'Cart: ' + cart + (cart === 1 ? ' item' : ' items')
      a.track('Product Added', { sku: p.sku, price: Number(p.price) })
      render()
    })
  })
  $('checkout').addEventListener('click', function () { a.track('Order Completed', { items: cart }); render() })
  $('sign-in').addEventListener('click', function () { a.identify('ada', { name: 'Ada', plan: 'pro' }); render() })

  // The consent banner (@assent/banner): it asks on the first visit, after a new policy
  // revision and when a choice expires; the "Privacy choices" button reopens it.
  var CATEGORIES = ['analytics', 'functional', 'marketing', 'replay']
  function all(value) {
    var s = {}
    CATEGORIES.forEach(function (c) { s[c] = value })
    return s
  }
  AssentBanner.start(a, { policyUrl: '#privacy' })

  // Session replay (@assent/replay), loaded only once the visitor grants it: /replay/ then
  // plays this very session back.
  var replayLoaded = false
  function startReplayWhenGranted() {
    if (replayLoaded || a.getConsent().state.replay !== 'granted') return
    replayLoaded = true
    var script = document.createElement('script')
    script.src = '/sdk/replay/assent-replay.min.js'
    script.onload = function () { window.replay = AssentReplay.start(a, { writeKey: cfg.writeKey, endpoint: cfg.endpoint || location.origin }) }
    document.head.appendChild(script)
  }
  a.onConsentChange(startReplayWhenGranted)
  startReplayWhenGranted()

  $('withdraw').addEventListener('click', function () { a.setConsent(all('denied'), { source: 'banner' }); render() })
  $('opt-out').addEventListener('click', function () { a.optOut(); render() })
  $('opt-in').addEventListener('click', function () { a.optIn(); render() })
  a.onConsentChange(render)

  // The panel.
  function text(tag, value, cls) {
    var el = document.createElement(tag)
    el.textContent = value
    if (cls) el.className = cls
    return el
  }
  function short(v) {
    return v.length > 56 ? v.slice(0, 56) + '… (' + v.length + ' chars)' : v
  }
  function deviceRows() {
    var rows = []
    document.cookie.split('; ').filter(Boolean).forEach(function (c) {
      var eq = c.indexOf('=')
      rows.push(['cookie ' + c.slice(0, eq), short(decodeURIComponent(c.slice(eq + 1)))])
    })
    ;[['localStorage', localStorage], ['sessionStorage', sessionStorage]].forEach(function (pair) {
      for (var i = 0; i < pair[1].length; i++) {
        var k = pair[1].key(i)
        var v = pair[1].getItem(k)
        rows.push([pair[0] + ' ' + k, short(v)])
      }
    })
    return rows
  }
  function describe(e) {
    var what = e.type === 'track' ? e.event : e.type === 'page' ? 'page ' + (e.name || '') : e.type
    var who = e.anonymousId ? 'anonymousId ' + e.anonymousId.slice(0, 8) + '…' : 'no identifier'
    if (e.userId) who += ', userId ' + e.userId
    return what + ' — ' + who
  }
  function render() {
    var consent = a.getConsent()
    var dl = $('consent')
    dl.textContent = ''
    CATEGORIES.forEach(function (c) {
      dl.append(text('dt', c), text('dd', consent.state[c], consent.state[c]))
    })
    dl.append(text('dt', 'decided'), text('dd', a.isOptedOut() ? 'opted out' : consent.decided ? 'yes (' + consent.source + ')' : 'not asked yet'))
    $('opt-out').hidden = a.isOptedOut()
    $('opt-in').hidden = !a.isOptedOut()

    var body = $('device').tBodies[0]
    body.textContent = ''
    var rows = deviceRows()
    if (!rows.length) rows.push(['nothing stored', ''])
    rows.forEach(function (r) {
      var tr = document.createElement('tr')
      tr.append(text('td', r[0]), text('td', r[1]))
      body.append(tr)
    })

    var list = $('sent')
    list.textContent = ''
    if (!sent.length) list.append(text('li', 'nothing sent yet', 'empty'))
    sent.slice(0, 6).forEach(function (s) {
      var li = text('li', (s.anonymous ? '[anonymous request] ' : '') + 'HTTP ' + s.status + ': ')
      li.append(text('span', s.body.batch.map(describe).join('; ')))
      list.append(li)
    })
    var st = a.stats()
    $('stats').textContent = 'sent ' + st.sent + ' · queued ' + st.queued + ' · held until consent ' + st.held + ' · dropped ' + JSON.stringify(st.dropped)
  }

  render()
  setInterval(render, 1000)
})()
