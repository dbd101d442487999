/** Medicine requests: the clinician's triage queue, one request's decisions, the urgent alert. */
import card from './card.js';
import detail from './detail.js';
import queue from './queue.js';

export default {
  section: 'med_requests',
  home: '/med',
  card,
  routes: [
    ['/med', queue],
    ['/med/:id', detail],
  ],
};
