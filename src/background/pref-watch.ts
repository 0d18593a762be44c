/**
 * Detects `mailnews.p7m_external=false`: Thunderbird then replaces an S/MIME message it cannot
 * decrypt with its own error page, so the selection changes but no display script ever runs
 * (and `onMessagesDisplayed` never fires). When a single S/MIME message is selected and no display
 * report for it arrives within `graceMs`, the watch reports the condition.
 */
export interface PrefWatchDeps {
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** Asked only for the single selected message; true when Unseal would hold it. */
  isSmime(messageId: number): Promise<boolean>;
  onSuspected(message: { id: number; headerMessageId: string }): void;
}

interface Watch {
  readonly id: number;
  readonly headerMessageId: string;
  displayed: boolean;
  timer?: unknown;
}

export class PrefWatch {
  private current: Watch | undefined;

  constructor(
    private readonly deps: PrefWatchDeps,
    private readonly graceMs = 4_000,
  ) {}

  /** A new selection in a 3-pane tab: forget the previous watch, maybe start a new one. */
  selectionChanged(messages: ReadonlyArray<{ id: number; headerMessageId: string }>): void {
    this.stop();
    const only = messages.length === 1 ? messages[0] : undefined;
    if (!only) return;
    const watch: Watch = { id: only.id, headerMessageId: only.headerMessageId, displayed: false };
    this.current = watch;
    // The timer starts at selection time; the S/MIME lookup runs meanwhile.
    watch.timer = this.deps.setTimer(() => {
      watch.timer = undefined;
      if (this.current !== watch || watch.displayed) return;
      this.deps.isSmime(watch.id).then(
        (smime) => {
          if (smime && this.current === watch && !watch.displayed) this.deps.onSuspected({ id: watch.id, headerMessageId: watch.headerMessageId });
        },
        () => undefined,
      );
    }, this.graceMs);
  }

  /** A display script (or onMessagesDisplayed) showed this message: the gate is working. */
  displayed(messageId: number): void {
    if (this.current?.id !== messageId) return;
    this.current.displayed = true;
    this.stop();
  }

  private stop(): void {
    if (this.current?.timer !== undefined) this.deps.clearTimer(this.current.timer);
    this.current = undefined;
  }
}
