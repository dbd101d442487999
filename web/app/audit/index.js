/** The audit trail: who changed what and when, for coordinators. */
const search = () => import('./search.js');

export default {
  section: 'audit',
  home: '/audit',
  routes: [['/audit', search]],
};
