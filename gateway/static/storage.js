// The browser's storage, which may be unavailable (private windows, quotas): reads answer
// null and writes false instead of throwing.

export const SESSION_KEY = "hotline.session"; // sessionStorage: {token, cursor}
export const SNAPSHOT_KEY = "hotline.snapshot"; // sessionStorage: recent events, so a reload keeps the list
export const MUTE_KEY = "hotline.muted"; // localStorage

export function readLocal(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function writeLocal(key, value) {
  try {
    localStorage.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

export function readSession(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

export function writeSession(key, value) {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}
