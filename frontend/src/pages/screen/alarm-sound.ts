import { onBeforeUnmount, onMounted, readonly, ref, watch, type Ref } from "vue";

/**
 * The alarm tone, made with the Web Audio API (no audio file to load or lose): a repeating
 * two-tone pattern, faster for level 2. Browsers start audio only after a user gesture; until
 * then `blocked` is true and the screen asks for a click. Silence lasts until the next new
 * alarm (`alert()`), as GB 16808 panels do; re-sound undoes a silence.
 */
export function useAlarmSound(level: Ref<number>) {
  const blocked = ref(true);
  const silenced = ref(false);
  const playing = ref(false);
  let context: AudioContext | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;

  function audio(): AudioContext | null {
    if (context) return context;
    const Constructor = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Constructor) return null;
    context = new Constructor();
    context.onstatechange = () => {
      blocked.value = context?.state !== "running";
      update();
    };
    blocked.value = context.state !== "running";
    return context;
  }

  /** One beep at `at` (the context's clock). */
  function beep(ctx: AudioContext, at: number, frequency: number, seconds: number): void {
    const oscillator = ctx.createOscillator();
    const gain = ctx.createGain();
    oscillator.type = "square";
    oscillator.frequency.setValueAtTime(frequency, at);
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(0.18, at + 0.01);
    gain.gain.setValueAtTime(0.18, at + seconds - 0.02);
    gain.gain.linearRampToValueAtTime(0, at + seconds);
    oscillator.connect(gain).connect(ctx.destination);
    oscillator.start(at);
    oscillator.stop(at + seconds + 0.01);
  }

  /** One second of the pattern: level 2 three urgent high beeps, level 1 a slower high-low pair. */
  function pattern(): void {
    const ctx = context;
    if (!ctx || ctx.state !== "running") return;
    const start = ctx.currentTime + 0.05;
    if (level.value >= 2) for (let i = 0; i < 3; i++) beep(ctx, start + i * 0.3, 1400, 0.18);
    else {
      beep(ctx, start, 950, 0.3);
      beep(ctx, start + 0.45, 700, 0.3);
    }
  }

  function update(): void {
    const want = level.value > 0 && !silenced.value;
    if (want && !timer) {
      pattern();
      timer = setInterval(pattern, 1000);
    } else if (!want && timer) {
      clearInterval(timer);
      timer = undefined;
    }
    playing.value = want && !blocked.value;
  }

  /** Tries to start audio; succeeds when called from a user gesture (a click, a key). */
  async function unlock(): Promise<void> {
    const ctx = audio();
    if (!ctx) return;
    if (ctx.state !== "running") {
      try {
        await ctx.resume();
      } catch {
        // Still blocked: the prompt stays.
      }
    }
    blocked.value = ctx.state !== "running";
    update();
  }

  /** A new alarm, or one that got worse: sound again even if silenced. */
  function alert(): void {
    silenced.value = false;
    update();
  }

  function silence(): void {
    silenced.value = true;
    update();
  }

  function resound(): void {
    silenced.value = false;
    void unlock();
  }

  const onGesture = () => void unlock();
  onMounted(() => {
    audio();
    // Any click or key on the screen enables sound (the prompt is the obvious place to click).
    window.addEventListener("pointerdown", onGesture, true);
    window.addEventListener("keydown", onGesture, true);
    update();
  });
  onBeforeUnmount(() => {
    window.removeEventListener("pointerdown", onGesture, true);
    window.removeEventListener("keydown", onGesture, true);
    clearInterval(timer);
    timer = undefined;
    void context?.close().catch(() => {});
    context = null;
  });
  watch(level, update);

  return { blocked: readonly(blocked), silenced: readonly(silenced), playing: readonly(playing), unlock, alert, silence, resound };
}
