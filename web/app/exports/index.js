/** Exports: a dataset as CSV or XLSX, with a progress bar for large ones. */
const exportScreen = () => import('./screen.js');

export default {
  section: 'exports',
  home: '/exports',
  routes: [['/exports', exportScreen]],
};
