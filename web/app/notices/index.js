/** Notices: read in one's language (offline), written and printed by coordinators. */
import edit from './edit.js';
import list from './list.js';
import print from './print.js';

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
