/**
 * Break the glass (server/break_glass.py): a clinician opens a compound
 * outside their scope for a stated reason and a limited time; a coordinator
 * sees the grants in force in their compounds, live, and can end one.
 */
const screen = () => import('./screen.js');

export default {
  section: 'break_glass',
  home: '/glass',
  routes: [['/glass', screen]],
};
