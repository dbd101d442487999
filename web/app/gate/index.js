/** The gate: scanning and deciding at the post, and visitor registration. */
import scan from './scan.js';
import visitorScreen from './visitors.js';

export default {
  section: 'gate',
  home: '/gate',
  routes: [['/gate', scan]],
};

/** The visitors' tile: registration of visitors and couriers at the post. */
export const visitors = {
  section: 'visitors',
  home: '/gate/visitors',
  routes: [['/gate/visitors', visitorScreen]],
};
