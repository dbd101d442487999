/** Progress per compound and building: coverage bars, counts and the day's chart. */
import progressScreen from './screen.js';

export default {
  section: 'progress',
  home: '/progress',
  routes: [['/progress', progressScreen]],
};
