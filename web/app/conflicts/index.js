/** The conflict inbox: losers of concurrent edits, restored or settled by a coordinator. */
import { TYPE, waitingCount } from './rules.js';

const inbox = () => import('./inbox.js');

export default {
  section: 'conflicts',
  home: '/conflicts',
  routes: [['/conflicts', inbox]],
  /** What the home tile counts: the conflicts still waiting. */
  count: { follows: [`record:${TYPE}`, 'outbox'], of: async (records) => waitingCount(await records.views(TYPE)) },
};
