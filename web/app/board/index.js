/** The coordinator's live board: tasks in columns by state, updated as they change. */
const boardScreen = () => import('./screen.js');

export default {
  section: 'board',
  home: '/board',
  routes: [['/board', boardScreen]],
};
