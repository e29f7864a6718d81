// handlebars/dist/cjs/handlebars.js is the package's compiler without lib/index.js (which
// registers a `require.extensions` hook that reads files); its API is the package's own.
declare module 'handlebars/dist/cjs/handlebars.js' {
  import Handlebars from 'handlebars';
  export default Handlebars;
}
