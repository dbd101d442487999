/** The gate: scanning and deciding at the post, and visitor registration. */
const gateLog = () => import('./log.js');
const policy = () => import('./policy.js');
const printSheets = () => import('./print.js');
const scan = () => import('./scan.js');
const visitorScreen = () => import('./visitors.js');

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

/** The coordinators' tile: the live gate log and its alerts, pass sheets, the policy. */
export const log = {
  section: 'gate_log',
  home: '/gate/log',
  routes: [['/gate/log', gateLog], ['/gate/print', printSheets], ['/gate/policy', policy]],
};
