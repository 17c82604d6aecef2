/*
 * The async snippet: paste it in <head> and call Assent.init() at once. Calls made before the
 * script arrives are recorded by stub trackers and replayed, in order, when it loads.
 * (Getters such as getConsent() return undefined until then; flush() resolves at once.)
 */
;(function (w, d, src) {
  if (w.Assent) return
  var methods = 'track page identify group alias flush setConsent optOut optIn enableAnonymous disableAnonymous clearUserData reset'.split(' ')
  var stubs = []
  w.Assent = {
    stubs: stubs,
    init: function (config) {
      var stub = { config: config, calls: [] }
      methods.forEach(function (m) {
        stub[m] = function () {
          stub.calls.push([m, arguments])
          if (m === 'flush') return Promise.resolve()
        }
      })
      stubs.push(stub)
      return stub
    },
  }
  var s = d.createElement('script')
  s.async = true
  s.src = src
  d.head.appendChild(s)
})(window, document, 'https://YOUR-COLLECTOR/sdk/assent.min.js')
