/** Browser privacy signals the visitor set once for every site. */
interface SignalNavigator {
  globalPrivacyControl?: boolean
  doNotTrack?: string | null
  msDoNotTrack?: string
}

/** Global Privacy Control: a legally binding "do not sell or share" under CCPA/CPRA. */
export function hasGlobalPrivacyControl(): boolean {
  return (navigator as SignalNavigator).globalPrivacyControl === true
}

/** The older Do-Not-Track header, honoured only when the site turns `respectDoNotTrack` on. */
export function hasDoNotTrack(): boolean {
  const n = navigator as SignalNavigator
  const w = window as { doNotTrack?: string }
  return n.doNotTrack === '1' || n.doNotTrack === 'yes' || w.doNotTrack === '1' || n.msDoNotTrack === '1'
}
