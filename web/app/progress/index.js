/** Progress per compound and building: coverage bars, counts and the day's chart. */
const progressScreen = () => import('./screen.js');

export default {
  section: 'progress',
  home: '/progress',
  routes: [['/progress', progressScreen]],
};
