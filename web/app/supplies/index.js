/**
 * Group buying: the team leader's rounds (opened here, packages with live stock and restocks, orders to
 * confirm, hotline orders, chain-list import, picking lists, delivery tasks)
 * and everyone's order screen (a volunteer ordering for a household).
 */
const chain = () => import('./chain.js');
const order = () => import('./order.js');
const orders = () => import('./orders.js');
const picking = () => import('./picking.js');
const round = () => import('./round.js');
const rounds = () => import('./rounds.js');
const newRound = () => import('./rounds.js').then((module) => ({ default: module.newRound }));

/** The leader's rounds. */
export default {
  section: 'supply_rounds',
  home: '/supplies',
  routes: [
    ['/supplies', rounds],
    ['/supplies/new', newRound],
    ['/supplies/:id', round],
    ['/supplies/:id/order', order],
    ['/supplies/:id/chain', chain],
    ['/supplies/:id/picking', picking],
  ],
};

/** The orders tile: open rounds, orders and the refused ones explained. */
export const ordersFeature = { section: 'orders', home: '/orders', routes: [['/orders', orders]] };

/** The picking tile opens the rounds, each with its picking list. */
export const pickingFeature = { section: 'picking', home: '/supplies', routes: [] };
