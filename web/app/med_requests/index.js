/** Medicine requests: the clinician's triage queue and one request's decisions. */
import detail from './detail.js';
import queue from './queue.js';

export default {
  section: 'med_requests',
  home: '/med',
  routes: [
    ['/med', queue],
    ['/med/:id', detail],
  ],
};
