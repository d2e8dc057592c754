// The console WebSocket: sign-in, heartbeat, reconnection with backoff, resume from a cursor.
//
//   const s = new HotlineSocket({ url, token, getCursor, onMessage, onState, onAuthFailed });
//   s.start(); s.send({type: "ack", ...}); s.stop();
//
// States reported to onState: connecting, connected, reconnecting (with retryAt), offline,
// signed-out.

const PING_EVERY_MS = 20_000;
const PONG_WITHIN_MS = 10_000;
const WELCOME_WITHIN_MS = 10_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;

// The gateway's close codes, as /asyncapi.json lists them: 4401 signs out, 1013 (fell behind)
// resumes at once; any other (4408 no auth in time, 1009 frame too big, 1011, 1012) reconnects
// with backoff.
export const CLOSE_BAD_TOKEN = 4401;
const CLOSE_FELL_BEHIND = new Set([1013]);

export function consoleUrl(loc = window.location) {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/v1/console/ws`;
}

export class HotlineSocket {
  constructor({ url, token, getCursor, onMessage, onState, onAuthFailed }) {
    this.url = url;
    this.token = token;
    this.getCursor = getCursor;
    this.onMessage = onMessage;
    this.onState = onState;
    this.onAuthFailed = onAuthFailed;
    this.ws = null;
    this.state = "signed-out";
    this.retryAt = null;
    this.welcomed = false;
    this.active = false;
    this.attempt = 0;
    this.lastImmediate = 0;
    this.timers = { retry: 0, ping: 0, pong: 0, welcome: 0 };
    this.handleOnline = () => {
      if (this.active && !this.ws) {
        this.attempt = 0;
        this.connect();
      }
    };
    this.handleOffline = () => {
      // A socket open across a network loss is usually dead without knowing it: drop it now
      // rather than wait for the heartbeat, and reconnect (resuming by cursor) when back.
      if (!this.active) return;
      if (this.ws) this.drop(4000, "offline");
      this.clearAll();
      this.setState("offline");
    };
  }

  /** The WebSocket while it is signed in, else null. */
  get open() {
    return this.ws && this.welcomed && this.ws.readyState === WebSocket.OPEN ? this.ws : null;
  }

  start() {
    if (this.active) return;
    this.active = true;
    this.attempt = 0;
    window.addEventListener("online", this.handleOnline);
    window.addEventListener("offline", this.handleOffline);
    this.connect();
  }

  stop() {
    this.active = false;
    window.removeEventListener("online", this.handleOnline);
    window.removeEventListener("offline", this.handleOffline);
    this.drop(1000, "signed out");
    this.clearAll();
    this.setState("signed-out");
  }

  send(message) {
    const ws = this.open;
    if (!ws) return false;
    ws.send(JSON.stringify(message));
    return true;
  }

  // --- internals --------------------------------------------------------------------------------

  setState(state) {
    this.state = state;
    if (state !== "reconnecting") this.retryAt = null;
    this.onState?.(state, this);
  }

  clearTimer(name) {
    if (this.timers[name]) {
      clearTimeout(this.timers[name]);
      clearInterval(this.timers[name]);
      this.timers[name] = 0;
    }
  }

  clearAll() {
    for (const name of Object.keys(this.timers)) this.clearTimer(name);
  }

  connect() {
    this.clearAll();
    if (!this.active) return;
    if (navigator.onLine === false) {
      this.setState("offline"); // the `online` event reconnects
      return;
    }
    this.setState("connecting");
    this.welcomed = false;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      const cursor = this.getCursor();
      ws.send(JSON.stringify({ type: "auth", token: this.token, resume_after: cursor ?? null }));
      this.timers.welcome = setTimeout(() => this.dead("no welcome"), WELCOME_WITHIN_MS);
    };
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      this.clearTimer("pong"); // any message proves the connection is alive
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (!msg || typeof msg !== "object") return;
      if (msg.type === "pong") return;
      if (msg.type === "welcome") {
        this.welcomed = true;
        this.attempt = 0;
        this.clearTimer("welcome");
        this.startHeartbeat();
        this.setState("connected");
      }
      this.onMessage?.(msg);
    };
    ws.onerror = () => {}; // a close event follows
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.closed(e.code);
    };
  }

  startHeartbeat() {
    this.clearTimer("ping");
    this.timers.ping = setInterval(() => {
      const ws = this.open;
      if (!ws) return;
      ws.send(JSON.stringify({ type: "ping" }));
      if (!this.timers.pong) this.timers.pong = setTimeout(() => this.dead("no pong"), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  /** Give up on a connection that stopped answering: don't wait for a close handshake. */
  dead(reason) {
    this.drop(4000, reason);
    this.closed(4000);
  }

  drop(code, reason) {
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code, reason);
    } catch {
      /* already closed */
    }
  }

  closed(code) {
    this.clearAll();
    this.welcomed = false;
    if (!this.active) return;
    if (code === CLOSE_BAD_TOKEN) {
      this.active = false;
      this.setState("signed-out");
      this.onAuthFailed?.();
      return;
    }
    if (CLOSE_FELL_BEHIND.has(code) && Date.now() - this.lastImmediate > 3000) {
      this.lastImmediate = Date.now(); // fell behind: resume at once (but not in a tight loop)
      this.connect();
      return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (navigator.onLine === false) {
      this.setState("offline");
      return;
    }
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const delay = Math.min(BACKOFF_MAX_MS, Math.round(base * (0.8 + Math.random() * 0.4)));
    this.attempt = Math.min(this.attempt + 1, 10);
    this.retryAt = Date.now() + delay;
    this.timers.retry = setTimeout(() => this.connect(), delay);
    this.state = "reconnecting";
    this.onState?.("reconnecting", this);
  }
}
