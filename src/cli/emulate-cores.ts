/**
 * Makes a page and every worker it starts (nested ones included) report `cores` logical cores in
 * navigator.hardwareConcurrency, for the e2e tests and the browser benchmark on small machines.
 *
 * tfjs's threaded wasm computes on hardwareConcurrency / 2 threads (it assumes two logical cores per physical
 * one), so on a 2-core machine it would run one thread. CDP's Emulation override reaches the page only; the
 * workers are paused on start (auto-attach) and get the same value before their first line runs.
 */
import type { BrowserContext, CDPSession, Page } from 'playwright-core';

interface AttachedEvent {
  sessionId: string;
  waitingForDebugger: boolean;
}

interface ChildMessage {
  sessionId: string;
  message: string;
}

export async function emulateLogicalCores(
  context: BrowserContext,
  page: Page,
  cores: number,
): Promise<CDPSession> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: cores });
  const override =
    `Object.defineProperty(WorkerNavigator.prototype, 'hardwareConcurrency', ` +
    `{ get: () => ${cores}, configurable: true });`;
  // Child sessions are reached through the page's session (Target.sendMessageToTarget): playwright's
  // CDPSession sends to its own target only.
  let nextId = 1;
  const sendTo = (path: string[], method: string, params: object = {}): void => {
    let message = JSON.stringify({ id: nextId++, method, params });
    for (let i = path.length - 1; i > 0; i--) {
      message = JSON.stringify({
        id: nextId++,
        method: 'Target.sendMessageToTarget',
        params: { sessionId: path[i], message },
      });
    }
    void cdp.send('Target.sendMessageToTarget', { sessionId: path[0], message }).catch(() => undefined);
  };
  const attached = (path: string[], event: AttachedEvent): void => {
    const child = [...path, event.sessionId];
    sendTo(child, 'Runtime.evaluate', { expression: override });
    sendTo(child, 'Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
    if (event.waitingForDebugger) sendTo(child, 'Runtime.runIfWaitingForDebugger');
  };
  /** Events of a child session arrive wrapped, once per level of nesting. */
  const received = (path: string[], wrapped: ChildMessage): void => {
    const inner = JSON.parse(wrapped.message) as { method?: string; params?: unknown };
    const from = [...path, wrapped.sessionId];
    if (inner.method === 'Target.attachedToTarget') attached(from, inner.params as AttachedEvent);
    if (inner.method === 'Target.receivedMessageFromTarget') received(from, inner.params as ChildMessage);
  };
  cdp.on('Target.attachedToTarget', (event) => attached([], event));
  cdp.on('Target.receivedMessageFromTarget', (event) => received([], event));
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
  return cdp;
}
