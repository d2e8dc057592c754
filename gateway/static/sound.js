// A short alert tone made with WebAudio (no audio file). Browsers only allow audio after a user
// gesture, so `unlock()` is called from clicks and key presses; until then `beep()` is silent.

let ctx = null;

export function unlock() {
  try {
    if (!ctx) {
      const AudioCtx = window.AudioContext || window.webkitAudioContext;
      if (!AudioCtx) return;
      ctx = new AudioCtx();
    }
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
  } catch {
    ctx = null;
  }
}

/** Two tones for an urgent alert, three higher ones for an escalation. About half a second. */
export function beep(kind = "urgent") {
  if (!ctx || ctx.state !== "running") return;
  const tones = kind === "escalated" ? [988, 784, 988] : [880, 660];
  const start = ctx.currentTime + 0.01;
  tones.forEach((freq, i) => {
    const t0 = start + i * 0.17;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(0.3, t0 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.15);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0);
    osc.stop(t0 + 0.16);
  });
}
