/** Medicine requests: the clinician's triage queue, one request's decisions, the urgent alert. */
import card from './card.js';

const detail = () => import('./detail.js');
const queue = () => import('./queue.js');

export default {
  section: 'med_requests',
  home: '/med',
  card,
  routes: [
    ['/med', queue],
    ['/med/:id', detail],
  ],
};
