/**
 * Receive live `changes` events over Socket.IO and hand them to the sync
 * engine.
 *
 * The socket authenticates with `auth: {token}`. On every (re)connect the
 * engine runs a round, since events sent while disconnected are lost. A
 * refused connection (bad or revoked token) is not retried by the client
 * library; the engine's next HTTP call will meet the same 401 and ask the
 * user to sign in, after which connectLive() is called again.
 */
import { io } from '../vendor/socket.io/socket.io.esm.min.js';

/** The performance mark made when a `changes` event arrives. */
const LIVE_MARK = 'live:changes';

/** `onGrants()`: a break-the-glass grant in the user's compounds opened or ended (coordinators). */
export function connectLive({ token, engine, url = undefined, onStatus = () => {}, onGrants = () => {} }) {
  const socket = io(url, {
    auth: { token },
    // Long-polling first works through the proxies guards' phones meet;
    // the client upgrades to WebSocket when it can.
    transports: ['polling', 'websocket'],
    reconnectionDelayMax: 60_000,
  });
  socket.on('connect', () => {
    onStatus(true);
    engine.requestSync().catch(() => {});
  });
  socket.on('disconnect', (reason) => {
    onStatus(false);
    // The server's doing: the user's scope changed (break the glass). Sync, then rejoin.
    if (reason === 'io server disconnect') engine.requestSync().catch(() => {});
  });
  socket.on('connect_error', () => {
    onStatus(false);
    if (!socket.active) engine.requestSync().catch(() => {}); // refused: let HTTP find out why
  });
  for (const event of ['break_glass', 'break_glass_ended']) socket.on(event, () => onGrants());
  socket.on('changes', (event) => {
    // When the event arrived, for update-to-paint timing (board/screen.js, bench/board.py);
    // only the latest is kept (observers see each as it is made), a phone runs for days.
    performance.clearMarks(LIVE_MARK);
    performance.mark(LIVE_MARK, { detail: { ids: (event?.changes ?? []).map((change) => change.id) } });
    engine.handleLive(event).catch(() => {});
  });
  return {
    /** Reconnect a socket the server refused, once HTTP works again. */
    ensureConnected() {
      if (!socket.connected && !socket.active) socket.connect();
    },
    close() {
      socket.disconnect();
    },
  };
}
