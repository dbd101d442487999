/** The audit trail: who changed what and when, for coordinators. */
import search from './search.js';

export default {
  section: 'audit',
  home: '/audit',
  routes: [['/audit', search]],
};
