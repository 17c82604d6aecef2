/**
 * Adopting the anonymous/device id another tracker left on this device, so a site that
 * switches to Assent keeps counting its returning visitors as returning. Pure: takes the
 * cookies and a localStorage reader, returns the id to adopt.
 */
export type PeerTracker = 'segment' | 'amplitude' | 'snowplow'

const ID = /^[\w.:-]{1,128}$/

function tryParse(read: () => unknown): unknown {
  try {
    return read()
  } catch {
    return undefined
  }
}

/** analytics.js stores JSON strings, so the id may arrive wrapped in (encoded) quotes. */
function segmentId(cookies: Record<string, string>, readLocal: (key: string) => string | undefined): unknown {
  const raw = readLocal('ajs_anonymous_id') || cookies.ajs_anonymous_id
  if (!raw) return undefined
  const text = tryParse(() => decodeURIComponent(raw)) as string | undefined
  return text && (tryParse(() => JSON.parse(text)) || text)
}

/** Browser SDK 2: `AMP_<key10>` = base64(uri-encoded JSON {deviceId}); legacy SDK: `amp_<key6>` = `deviceId.…`. */
function amplitudeId(cookies: Record<string, string>): unknown {
  for (const name of Object.keys(cookies)) {
    const raw = tryParse(() => decodeURIComponent(cookies[name])) as string | undefined
    if (!raw) continue
    if (/^AMP_(?!MKTG_|TEST)/.test(name)) {
      const json = tryParse(() => JSON.parse(decodeURIComponent(atob(raw)))) as { deviceId?: unknown } | undefined
      if (json && json.deviceId) return json.deviceId
    } else if (/^amp_[0-9a-f]{6}$/i.test(name)) {
      return raw.split('.')[0]
    }
  }
  return undefined
}

/** Snowplow: `_sp_id.<hash>` = `domain_userid.createdTs.visitCount.…`. */
function snowplowId(cookies: Record<string, string>): unknown {
  for (const name of Object.keys(cookies)) if (/^_sp_id\./.test(name)) return (tryParse(() => decodeURIComponent(cookies[name])) as string | undefined)?.split('.')[0]
  return undefined
}

export function findPeerAnonymousId(peers: PeerTracker[], cookies: Record<string, string>, readLocal: (key: string) => string | undefined): string | undefined {
  for (const peer of peers) {
    const id = peer === 'segment' ? segmentId(cookies, readLocal) : peer === 'amplitude' ? amplitudeId(cookies) : peer === 'snowplow' ? snowplowId(cookies) : undefined
    if (typeof id === 'string' && ID.test(id)) return id
  }
  return undefined
}
