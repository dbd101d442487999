/** Notices: read in one's language (offline), written and printed by coordinators. */
const edit = () => import('./edit.js');
const list = () => import('./list.js');
const print = () => import('./print.js');

export default {
  section: 'notices',
  home: '/notices',
  routes: [
    ['/notices', list],
    ['/notices/new', edit],
    ['/notices/:id/edit', edit],
    ['/notices/:id/print', print],
  ],
};
