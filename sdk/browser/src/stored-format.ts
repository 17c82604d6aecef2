/**
 * The version of what the tracker keeps on a device, stamped as `v` in each JSON record it
 * writes (identity, consent, queue). Version 1 is the unstamped layout used until 2026-11-30;
 * a tracker finding it migrates it (stored-identity.ts). The layout is documented for
 * server-side readers in sdk/browser/README.md, "What is stored on the device".
 */
export const FORMAT = 2
