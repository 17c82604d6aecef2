/** Stylesheets imported for esbuild, which emits them as a .css file beside the bundle. */
declare module '*.css'
