/**
 * Break the glass (server/break_glass.py): a clinician opens a compound
 * outside their scope for a stated reason and a limited time; a coordinator
 * sees the grants in force in their compounds, live, and can end one. The
 * screen is loaded when first opened: few users ever need it.
 */
const load = () => import('./screen.js');

export default {
  section: 'break_glass',
  home: '/glass',
  routes: [['/glass', {
    render: async (deps) => (await load()).default(deps),
    uses: ['user', 'names', 'glass', 'toast', 'redraw'],
    // `grants`: a live break_glass / break_glass_ended event; compounds come and go with grants.
    follows: ['grants', 'record:compound'],
  }]],
};
